#include <catch2/catch.hpp>

#include "endpoint.hpp"
#include "ws_connection.hpp"

using globemeet::detail::close_code_for_http_status;
using globemeet::detail::parse_endpoint;

TEST_CASE("websocket endpoints split into host, port and target", "[endpoint]") {
  auto ep = parse_endpoint("wss://events.example/v1/events", true);
  REQUIRE(ep);
  CHECK(ep->tls);
  CHECK(ep->host == "events.example");
  CHECK(ep->port == "443");
  CHECK(ep->target == "/v1/events");
  CHECK(ep->host_header() == "events.example");
  CHECK_FALSE(ep->host_is_ip());

  ep = parse_endpoint("ws://127.0.0.1:8443/v1/events?x=1", true);
  REQUIRE(ep);
  CHECK_FALSE(ep->tls);
  CHECK(ep->port == "8443");
  CHECK(ep->target == "/v1/events?x=1");
  CHECK(ep->host_header() == "127.0.0.1:8443");
  CHECK(ep->host_is_ip());

  ep = parse_endpoint("ws://[::1]:9000", true);
  REQUIRE(ep);
  CHECK(ep->host == "::1");
  CHECK(ep->target == "/");
  CHECK(ep->host_header() == "[::1]:9000");

  ep = parse_endpoint("HTTPS://h:443/base/", false);
  REQUIRE(ep);
  CHECK(ep->tls);
  CHECK(ep->host_header() == "h");
}

TEST_CASE("endpoints that cannot be used are refused", "[endpoint]") {
  CHECK_FALSE(parse_endpoint("http://h/v1/events", true));
  CHECK_FALSE(parse_endpoint("ws://h/v1/events", false));
  CHECK_FALSE(parse_endpoint("ws:///v1/events", true));
  CHECK_FALSE(parse_endpoint("ws://h:0/", true));
  CHECK_FALSE(parse_endpoint("ws://h:65536/", true));
  CHECK_FALSE(parse_endpoint("ws://h:80x/", true));
  CHECK_FALSE(parse_endpoint("ws://user@h/", true));
  CHECK_FALSE(parse_endpoint("ws://[::1/", true));
  CHECK_FALSE(parse_endpoint("h:80", true));
}

TEST_CASE("refused handshakes map to the close codes the session expects", "[endpoint]") {
  CHECK(close_code_for_http_status(401) == 4401);
  CHECK(close_code_for_http_status(403) == 4403);
  CHECK(close_code_for_http_status(429) == 4029);
  CHECK(close_code_for_http_status(400) == 4400);
  CHECK(close_code_for_http_status(404) == 4400);
  CHECK(close_code_for_http_status(503) == 1011);
  CHECK(close_code_for_http_status(200) == 1006);
}
