// The plain HTTP routes of docs/openapi.yaml, independent of Beast: the transport hands over
// the few request parts a route needs and writes back the response as returned. The WebSocket
// upgrade of GET /v1/events is not here (websocket_upgrade.hpp).
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server_state.hpp"

namespace globemeet::server::net {

// The challenge of every 401 for a bearer token, on the handshake and on POST /v1/events
// (RFC 7235 section 3.1 names the scheme; RFC 6750 section 3 the error).
inline constexpr std::string_view bearer_challenge = "Bearer realm=\"globemeet\", error=\"invalid_token\"";

struct http_request {
  std::string_view method;  // "GET"
  std::string_view target;  // "/v1/events?x=1"
  std::string_view authorization;
  std::string_view content_type;
  std::string_view body;
  std::string_view idempotency_key = {};  // POST /v1/events: the Idempotency-Key header
  bool has_idempotency_key = false;       // the header was sent (even empty: refused)
};

struct http_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// {"error":code,"message":message} with `status`.
http_response json_error(int status, std::string_view code, std::string_view message);

// Receives a route's answer, exactly once; possibly on another thread than the request's
// (POST /v1/events answers after the log's commit).
using http_responder = std::function<void(http_response)>;

// Answers `request` through `respond`. The request's views need to stay valid only until
// route_http returns.
void route_http(server_state& state, const http_request& request, const http_responder& respond);
// The routes that answer at once (every route but POST /v1/events).
http_response route_http_now(server_state& state, const http_request& request);

// The path of a request target, without its query.
std::string_view target_path(std::string_view target);

// The token of an "Authorization: Bearer <token>" header (scheme case-insensitive), or empty.
std::string_view bearer_token(std::string_view authorization);

}  // namespace globemeet::server::net
