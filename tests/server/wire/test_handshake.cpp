#include <catch2/catch.hpp>

#include <string>

#include "globemeet/server/wire/handshake.hpp"

namespace wire = globemeet::server::wire;

namespace {

wire::upgrade_request good_request() {
  wire::upgrade_request request;
  request.method = "GET";
  request.upgrade = "websocket";
  request.connection = "Upgrade";
  request.websocket_version = "13";
  request.websocket_key = "dGhlIHNhbXBsZSBub25jZQ==";
  request.websocket_protocol = "globemeet-events.v1";
  return request;
}

std::string header_value(const wire::handshake_response& response, std::string_view name) {
  for (const auto& header : response.headers) {
    if (header.name == name) return header.value;
  }
  return "<absent>";
}

void require_refusal(const wire::handshake_response& response, unsigned status, std::string_view code) {
  CHECK_FALSE(response.accepted());
  CHECK(response.status == status);
  CHECK(header_value(response, "Content-Type") == "application/json");
  CHECK(response.body.find("{\"error\":\"" + std::string(code) + "\",\"message\":\"") == 0);
  CHECK(header_value(response, "Sec-WebSocket-Accept") == "<absent>");
}

}  // namespace

TEST_CASE("accept_key matches the RFC 6455 example", "[handshake]") {
  CHECK(wire::accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("a valid upgrade request is answered with 101", "[handshake]") {
  const auto response = wire::evaluate_upgrade(good_request());
  REQUIRE(response.accepted());
  CHECK(response.status == 101);
  CHECK(response.body.empty());
  CHECK(header_value(response, "Upgrade") == "websocket");
  CHECK(header_value(response, "Connection") == "Upgrade");
  CHECK(header_value(response, "Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  CHECK(header_value(response, "Sec-WebSocket-Protocol") == "globemeet-events.v1");
}

TEST_CASE("header token lists tolerate whitespace, case and other tokens", "[handshake]") {
  auto request = good_request();
  request.upgrade = " WebSocket ";
  request.connection = "keep-alive,\tUPGRADE";
  request.websocket_version = " 13 ";
  request.websocket_key = " dGhlIHNhbXBsZSBub25jZQ== ";
  request.websocket_protocol = "chat ,  superchat,globemeet-events.v1 , other";
  const auto response = wire::evaluate_upgrade(request);
  REQUIRE(response.accepted());
  CHECK(header_value(response, "Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  CHECK(header_value(response, "Sec-WebSocket-Protocol") == "globemeet-events.v1");
}

TEST_CASE("header_has_token matches whole elements only", "[handshake]") {
  CHECK(wire::header_has_token("a, b ,c", "b", false));
  CHECK(wire::header_has_token(",,b,,", "b", false));
  CHECK_FALSE(wire::header_has_token("bb, ab", "b", false));
  CHECK_FALSE(wire::header_has_token("", "b", false));
  CHECK_FALSE(wire::header_has_token("B", "b", false));
  CHECK(wire::header_has_token("B", "b", true));
  CHECK_FALSE(wire::header_has_token("up grade", "upgrade", true));
}

TEST_CASE("a method other than GET is refused with 405", "[handshake]") {
  auto request = good_request();
  request.method = "POST";
  const auto response = wire::evaluate_upgrade(request);
  require_refusal(response, 405, "method_not_allowed");
  CHECK(header_value(response, "Allow") == "GET");
}

TEST_CASE("a request that is not an upgrade is refused with 426", "[handshake]") {
  SECTION("no Upgrade header") {
    auto request = good_request();
    request.upgrade = "";
    const auto response = wire::evaluate_upgrade(request);
    require_refusal(response, 426, "upgrade_required");
    CHECK(header_value(response, "Upgrade") == "websocket");
  }
  SECTION("another protocol") {
    auto request = good_request();
    request.upgrade = "h2c";
    require_refusal(wire::evaluate_upgrade(request), 426, "upgrade_required");
  }
  SECTION("Connection without the upgrade token") {
    auto request = good_request();
    request.connection = "keep-alive";
    require_refusal(wire::evaluate_upgrade(request), 426, "upgrade_required");
  }
}

TEST_CASE("a missing or other WebSocket version is refused with 426 naming version 13", "[handshake]") {
  for (const std::string_view version : {"", "8", "12", "14", "13, 8"}) {
    auto request = good_request();
    request.websocket_version = version;
    INFO("version '" << version << "'");
    const auto response = wire::evaluate_upgrade(request);
    require_refusal(response, 426, "unsupported_version");
    CHECK(header_value(response, "Sec-WebSocket-Version") == "13");
  }
}

TEST_CASE("a key that is not base64 of 16 bytes is refused with 400", "[handshake]") {
  for (const std::string_view key : {"", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ=",
                                     "dGhlIHNhbXBsZSBub25jZQ===", "dGhlIHNhbXBsZSBub25j", "dGhlIHNhbXBsZSBub25jZR==",
                                     "dGhlIHNhbXBsZSBub25j*Q==", "dGhlIHNhbXBsZSBub25jZQZ=",
                                     "dGhlIHNhbXBsZSBub25jZSBrZXk="}) {
    auto request = good_request();
    request.websocket_key = key;
    INFO("key '" << key << "'");
    require_refusal(wire::evaluate_upgrade(request), 400, "invalid_key");
  }
}

TEST_CASE("a handshake that does not offer the subprotocol is refused with 400", "[handshake]") {
  for (const std::string_view offered : {"", "chat", "GlobeMeet-Events.v1", "globemeet-events.v10",
                                         "globemeet-events", "globemeet-events.v1;q=1"}) {
    auto request = good_request();
    request.websocket_protocol = offered;
    INFO("offered '" << offered << "'");
    const auto response = wire::evaluate_upgrade(request);
    require_refusal(response, 400, "subprotocol_required");
    CHECK(response.body ==
          "{\"error\":\"subprotocol_required\",\"message\":\"offer Sec-WebSocket-Protocol: globemeet-events.v1\"}");
  }
}

TEST_CASE("checks are answered in a fixed order", "[handshake]") {
  wire::upgrade_request request;  // everything missing
  request.method = "GET";
  require_refusal(wire::evaluate_upgrade(request), 426, "upgrade_required");
  request.upgrade = "websocket";
  request.connection = "upgrade";
  require_refusal(wire::evaluate_upgrade(request), 426, "unsupported_version");
  request.websocket_version = "13";
  require_refusal(wire::evaluate_upgrade(request), 400, "invalid_key");
  request.websocket_key = "AAAAAAAAAAAAAAAAAAAAAA==";
  require_refusal(wire::evaluate_upgrade(request), 400, "subprotocol_required");
  request.websocket_protocol = "globemeet-events.v1";
  CHECK(wire::evaluate_upgrade(request).accepted());
}

TEST_CASE("error bodies are JSON with escaped strings", "[handshake]") {
  CHECK(wire::error_body("too_many_connections", "retry later") ==
        "{\"error\":\"too_many_connections\",\"message\":\"retry later\"}");
  CHECK(wire::error_body("x", "quote \" backslash \\ newline \n tab \t bell \x07") ==
        "{\"error\":\"x\",\"message\":\"quote \\\" backslash \\\\ newline \\n tab \\t bell \\u0007\"}");
  const auto response = wire::http_error(429, "too_many_connections", "the tenant has too many connections");
  CHECK(response.status == 429);
  CHECK_FALSE(response.accepted());
  CHECK(header_value(response, "Content-Type") == "application/json");
}
