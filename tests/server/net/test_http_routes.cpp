#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <optional>

#include "http_routes.hpp"

using namespace globemeet::server::net;

namespace {

std::unique_ptr<server_state> dev_state() {
  server_config config;
  config.dev = true;
  config.retention_events = 10;
  std::string error;
  auto state = make_server_state(config, error);
  REQUIRE(state);
  return state;
}

// The memory log stores at once, so every route answers before route_http returns.
http_response route(server_state& state, const http_request& request) {
  std::optional<http_response> answer;
  route_http(state, request, [&answer](http_response r) { answer = std::move(r); });
  REQUIRE(answer);
  return std::move(*answer);
}

std::string error_code(const http_response& r) {
  return std::string(boost::json::parse(r.body).as_object().at("error").as_string());
}

}  // namespace

TEST_CASE("routes: health, readiness while draining, catalogue, JWKS, metrics", "[routes]") {
  auto state = dev_state();
  CHECK(route(*state, {"GET", "/healthz", "", "", ""}).status == 200);
  CHECK(route(*state, {"GET", "/readyz", "", "", ""}).status == 200);
  state->draining = true;
  CHECK(route(*state, {"GET", "/readyz", "", "", ""}).status == 503);
  CHECK(route(*state, {"GET", "/healthz", "", "", ""}).status == 200);
  auto topics = route(*state, {"GET", "/v1/topics?x=1", "", "", ""});
  CHECK(topics.status == 200);
  CHECK(boost::json::parse(topics.body).as_object().at("types").as_array().size() == 20);
  auto jwks = route(*state, {"GET", "/.well-known/jwks.json", "", "", ""});
  CHECK(boost::json::parse(jwks.body).as_object().at("keys").as_array().size() == 1);  // the ephemeral ES256 key
  auto metrics = route(*state, {"GET", "/metrics", "", "", ""});
  CHECK(metrics.content_type.find("text/plain") == 0);
  CHECK(metrics.body.find("globemeet_http_requests_total") != std::string::npos);
}

TEST_CASE("routes: 404 and 405 are JSON", "[routes]") {
  auto state = dev_state();
  auto missing = route(*state, {"GET", "/nope", "", "", ""});
  CHECK(missing.status == 404);
  CHECK(error_code(missing) == "not_found");
  auto wrong = route(*state, {"PUT", "/v1/events", "", "", ""});
  CHECK(wrong.status == 405);
  CHECK(error_code(wrong) == "method_not_allowed");
  REQUIRE_FALSE(wrong.headers.empty());
  CHECK(wrong.headers[0] == std::pair<std::string, std::string>{"Allow", "GET, POST"});
  CHECK(route(*state, {"GET", "/oauth/token", "", "", ""}).status == 405);
  CHECK(route(*state, {"GET", "/v1/events", "", "", ""}).status == 426);
}

// Fuzz target http_routes: a path with bytes that are not UTF-8 was quoted raw in the 404, and
// the body was not JSON any more.
TEST_CASE("routes: a 404 quotes any path as valid JSON, its odd bytes percent-encoded", "[routes]") {
  auto state = dev_state();
  const std::string path = "/v/v1/topics1/events\x02\xff\xfe \"x";
  auto missing = route(*state, {"GET", path, "", "", ""});
  CHECK(missing.status == 404);
  boost::system::error_code ec;
  auto body = boost::json::parse(missing.body, ec);
  REQUIRE_FALSE(ec);
  CHECK(body.as_object().at("message").as_string() == "no route /v/v1/topics1/events%02%FF%FE%20\"x");
}

TEST_CASE("routes: publish needs a publisher token and stores before answering", "[routes]") {
  auto state = dev_state();
  auto none = route(*state, {"POST", "/v1/events", "", "application/json", "{}"});
  CHECK(none.status == 401);
  CHECK(error_code(none) == "invalid_token");
  auto bad = route(*state, {"POST", "/v1/events", "Bearer x.y.z", "application/json", "{}"});
  CHECK(bad.status == 401);

  // A publisher token signed by the server's own (ephemeral) key, which it also verifies.
  globemeet::server::auth::claims c;
  c.sub = "svc";
  c.tenant = "acme";
  c.perms = {">"};
  c.pub = true;
  c.iss = state->config.issuer;
  c.aud = {state->config.audience};
  c.iat = unix_now_s();
  c.exp = c.iat + 60;
  auto token = state->token_signer->sign(c);
  REQUIRE(token.ok());
  std::string auth = "Bearer " + token.value();
  std::string body = R"({"type":"agent.online","subject":"a-1","data":{"agent_id":"a-1"}})";
  auto ok = route(*state, {"POST", "/v1/events", auth, "application/json; charset=utf-8", body});
  REQUIRE(ok.status == 200);
  auto ids = boost::json::parse(ok.body).as_object().at("ids").as_array();
  REQUIRE(ids.size() == 1);
  CHECK(state->log->head().str() == std::string(ids[0].as_string()));
  CHECK(route(*state, {"POST", "/v1/events", auth, "text/plain", body}).status == 415);
  auto untyped = route(*state, {"POST", "/v1/events", auth, "", body});  // Content-Type is required
  CHECK(untyped.status == 415);
  CHECK(error_code(untyped) == "unsupported_media_type");
  auto invalid = route(*state, {"POST", "/v1/events", auth, "application/json", R"({"type":"agent.online","subject":"a","data":{}})"});
  CHECK(invalid.status == 400);
  CHECK(error_code(invalid) == "invalid_event");

  c.pub = false;
  auto reader = state->token_signer->sign(c);
  CHECK(route(*state, {"POST", "/v1/events", "Bearer " + reader.value(), "", body}).status == 403);
}
