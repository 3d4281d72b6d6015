// The WebSocket opening handshake checks (server/wire handshake) on arbitrary header values:
// the input is up to six lines (method, Upgrade, Connection, Sec-WebSocket-Version,
// Sec-WebSocket-Key, Sec-WebSocket-Protocol). Checks: an accepted request is a GET for version
// 13 offering the subprotocol, with a key of 16 base64 bytes, and is answered with the
// Sec-WebSocket-Accept value computed here with OpenSSL; a refusal has a documented status and
// a strict JSON body; error_body() of any UTF-8 text is strict JSON that reads back the same.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "check.hpp"
#include "globemeet/core/codec.hpp"
#include "globemeet/server/wire/handshake.hpp"
#include "globemeet/server/wire/utf8.hpp"

namespace wire = globemeet::server::wire;

namespace {

std::string base64(const unsigned char* bytes, std::size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string expected_accept(std::string_view key) {
  const std::string input = std::string(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return base64(digest, sizeof digest);
}

// Standard base64 of exactly 16 bytes: 22 alphabet characters, then "==".
bool is_key_of_16_bytes(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  unsigned char decoded[18];
  return EVP_DecodeBlock(decoded, reinterpret_cast<const unsigned char*>(key.data()), 24) == 18 &&
         base64(decoded, 16) == key;
}

std::string_view header(const wire::handshake_response& r, std::string_view name) {
  for (const auto& h : r.headers) {
    if (h.name == name) return h.value;
  }
  return {};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> fields;
  while (fields.size() < 6) {
    const auto newline = rest.find('\n');
    fields.push_back(rest.substr(0, newline));
    if (newline == std::string_view::npos) break;
    rest.remove_prefix(newline + 1);
  }
  fields.resize(6);
  const wire::upgrade_request request{fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]};

  const auto response = wire::evaluate_upgrade(request);
  if (response.accepted()) {
    FUZZ_CHECK(request.method == "GET");
    FUZZ_CHECK(wire::header_has_token(request.upgrade, "websocket", true));
    FUZZ_CHECK(wire::header_has_token(request.connection, "upgrade", true));
    FUZZ_CHECK(request.websocket_version == "13");
    FUZZ_CHECK(is_key_of_16_bytes(request.websocket_key));
    FUZZ_CHECK(wire::header_has_token(request.websocket_protocol, wire::subprotocol, false));
    FUZZ_CHECK(header(response, "Sec-WebSocket-Accept") == expected_accept(request.websocket_key));
    FUZZ_CHECK(header(response, "Sec-WebSocket-Protocol") == wire::subprotocol);
    FUZZ_CHECK(response.body.empty());
  } else {
    FUZZ_CHECK(response.status == 400 || response.status == 405 || response.status == 426);
    FUZZ_CHECK(!globemeet::core::codec::check_strict_json(response.body, SIZE_MAX));
  }

  // The JSON error body escapes whatever UTF-8 it is given.
  if (wire::is_valid_utf8(fields[0]) && wire::is_valid_utf8(fields[1])) {
    const std::string body = wire::error_body(fields[0], fields[1]);
    FUZZ_CHECK(!globemeet::core::codec::check_strict_json(body, SIZE_MAX));
    const auto parsed = boost::json::parse(body).as_object();
    FUZZ_CHECK(parsed.at("error").as_string() == fields[0]);
    FUZZ_CHECK(parsed.at("message").as_string() == fields[1]);
  }
  return 0;
}
