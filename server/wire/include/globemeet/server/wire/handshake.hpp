// The server side of the WebSocket opening handshake (RFC 6455 section 4.2) for the
// `globemeet-events.v1` subprotocol, and the JSON error bodies of docs/protocol.md section 1.
// Transport-agnostic: the caller's HTTP parser hands over header values as plain strings and
// writes the returned status, headers and body. Authentication, Origin and connection limits
// (401 / 403 / 429) need server state and are checked by the caller; http_error() builds their
// responses in the same shape.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace globemeet::server::wire {

// The one subprotocol this server speaks.
inline constexpr std::string_view subprotocol = "globemeet-events.v1";

// The Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key:
// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
std::string accept_key(std::string_view client_key);

// The request's relevant headers. An absent header is an empty view. When a header occurs
// several times, pass the occurrences joined with ", " (RFC 9110 section 5.3).
struct upgrade_request {
  std::string_view method;                  // "GET"
  std::string_view upgrade;                 // Upgrade
  std::string_view connection;              // Connection
  std::string_view websocket_version;       // Sec-WebSocket-Version
  std::string_view websocket_key;           // Sec-WebSocket-Key
  std::string_view websocket_protocol;      // Sec-WebSocket-Protocol
};

struct http_header {
  std::string name;
  std::string value;
};

// What to answer: 101 with the upgrade headers, or an error status with headers and a JSON
// body {"error":"<code>","message":"<text>"}.
struct handshake_response {
  unsigned status = 101;
  std::vector<http_header> headers;  // for errors includes Content-Type: application/json
  std::string body;                  // empty for 101
  bool accepted() const noexcept { return status == 101; }
};

// Checks, in this order, and answers the first failure:
//  * method GET                                         else 405 method_not_allowed (Allow: GET)
//  * Upgrade has the token `websocket` and Connection
//    the token `upgrade` (both case-insensitive)        else 426 upgrade_required
//  * Sec-WebSocket-Version is 13                        else 426 unsupported_version
//                                                            (Sec-WebSocket-Version: 13)
//  * Sec-WebSocket-Key is base64 of 16 bytes            else 400 invalid_key
//  * Sec-WebSocket-Protocol lists globemeet-events.v1   else 400 subprotocol_required
// On success: 101 with Upgrade, Connection, Sec-WebSocket-Accept and Sec-WebSocket-Protocol.
handshake_response evaluate_upgrade(const upgrade_request& request);

// An error response of `status` with the JSON body {"error":code,"message":message} (strings
// escaped) and Content-Type: application/json.
handshake_response http_error(unsigned status, std::string_view code, std::string_view message);

// The JSON error body alone: {"error":"<code>","message":"<message>"}.
std::string error_body(std::string_view code, std::string_view message);

// Whether a comma-separated header value (RFC 9110 list syntax, optional whitespace around
// elements) has an element equal to `token`; ASCII case-insensitive when `ignore_case`.
bool header_has_token(std::string_view value, std::string_view token, bool ignore_case);

}  // namespace globemeet::server::wire
