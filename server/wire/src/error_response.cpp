// The JSON error responses of the HTTP side of the handshake: {"error":..,"message":..}.
#include <cstdio>

#include "globemeet/server/wire/handshake.hpp"

namespace globemeet::server::wire {
namespace {

// Appends `text` as the contents of a JSON string (RFC 8259 section 7). Bytes at or above 0x80
// pass through: the caller's text is UTF-8.
void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          out += escaped;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

}  // namespace

std::string error_body(std::string_view code, std::string_view message) {
  std::string body = "{\"error\":";
  append_json_string(body, code);
  body += ",\"message\":";
  append_json_string(body, message);
  body.push_back('}');
  return body;
}

handshake_response http_error(unsigned status, std::string_view code, std::string_view message) {
  handshake_response response;
  response.status = status;
  response.headers.push_back({"Content-Type", "application/json"});
  response.body = error_body(code, message);
  return response;
}

}  // namespace globemeet::server::wire
