#include "globemeet/server/wire/handshake.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstddef>

namespace globemeet::server::wire {
namespace {

// RFC 6455 section 1.3: the GUID appended to the client's key before hashing.
constexpr std::string_view accept_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

constexpr bool is_optional_whitespace(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && is_optional_whitespace(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_optional_whitespace(text.back())) text.remove_suffix(1);
  return text;
}

constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// The 6-bit value of a standard base64 character, or -1.
int base64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// RFC 6455 4.1: the key is the base64 of 16 bytes, i.e. 22 characters and "==". The last
// character carries only 2 data bits, so its low 4 bits must be zero (canonical spelling).
bool is_valid_key(std::string_view key) noexcept {
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (std::size_t i = 0; i < 22; ++i) {
    if (base64_value(key[i]) < 0) return false;
  }
  return (base64_value(key[21]) & 0x0F) == 0;
}

handshake_response upgrade_required(std::string_view code, std::string_view message) {
  // RFC 9110 15.5.22: a 426 names the protocol to upgrade to; RFC 6455 4.4: and the version.
  handshake_response response = http_error(426, code, message);
  response.headers.push_back({"Upgrade", "websocket"});
  response.headers.push_back({"Connection", "Upgrade"});
  response.headers.push_back({"Sec-WebSocket-Version", "13"});
  return response;
}

}  // namespace

std::string accept_key(std::string_view client_key) {
  std::string input;
  input.reserve(client_key.size() + accept_guid.size());
  input.append(client_key).append(accept_guid);

  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  if (EVP_Digest(input.data(), input.size(), digest.data(), &digest_size, EVP_sha1(), nullptr) != 1) {
    return {};  // only when OpenSSL cannot provide SHA-1; the handshake then fails at the client
  }
  // Base64 of 20 bytes is 28 characters; EVP_EncodeBlock adds a terminating NUL.
  std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> encoded{};
  const int encoded_size = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(digest_size));
  return std::string(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(encoded_size));
}

bool header_has_token(std::string_view value, std::string_view token, bool ignore_case) {
  while (true) {
    const std::size_t comma = value.find(',');
    const std::string_view element = trim(value.substr(0, comma));
    if (!element.empty() &&
        (ignore_case ? equal_ignoring_case(element, token) : element == token)) {
      return true;
    }
    if (comma == std::string_view::npos) return false;
    value.remove_prefix(comma + 1);
  }
}

handshake_response evaluate_upgrade(const upgrade_request& request) {
  if (request.method != "GET") {
    handshake_response response =
        http_error(405, "method_not_allowed", "the WebSocket handshake is a GET request");
    response.headers.push_back({"Allow", "GET"});
    return response;
  }
  if (!header_has_token(request.upgrade, "websocket", true) ||
      !header_has_token(request.connection, "upgrade", true)) {
    return upgrade_required("upgrade_required",
                            "this endpoint is a WebSocket: send Upgrade: websocket and Connection: Upgrade");
  }
  if (trim(request.websocket_version) != "13") {
    return upgrade_required("unsupported_version", "send Sec-WebSocket-Version: 13");
  }
  const std::string_view key = trim(request.websocket_key);
  if (!is_valid_key(key)) {
    return http_error(400, "invalid_key", "Sec-WebSocket-Key must be the base64 of 16 bytes");
  }
  // Subprotocol names are compared exactly (RFC 6455 4.1: they are tokens, not case-folded).
  if (!header_has_token(request.websocket_protocol, subprotocol, false)) {
    return http_error(400, "subprotocol_required",
                      "offer Sec-WebSocket-Protocol: globemeet-events.v1");
  }

  handshake_response response;
  response.status = 101;
  response.headers.push_back({"Upgrade", "websocket"});
  response.headers.push_back({"Connection", "Upgrade"});
  response.headers.push_back({"Sec-WebSocket-Accept", accept_key(key)});
  response.headers.push_back({"Sec-WebSocket-Protocol", std::string(subprotocol)});
  return response;
}

}  // namespace globemeet::server::wire
