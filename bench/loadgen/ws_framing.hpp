// Client side of RFC 6455 framing, just what a load generator needs: masked frames out,
// unmasked server frames in. No extensions (no permessage-deflate is ever offered).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bench::ws {

enum class Opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

// Appends one final, masked frame carrying `payload` to `out`. `mask_key` is any 32-bit value
// (the server cannot tell; a fresh key per frame is still what RFC 6455 asks, so callers vary it).
void append_client_frame(std::string& out, Opcode opcode, std::string_view payload, std::uint32_t mask_key);

// One server frame found at the start of a buffer.
struct ServerFrame {
  Opcode opcode = Opcode::text;
  bool fin = true;
  std::size_t header_bytes = 0;
  std::size_t payload_bytes = 0;
};

enum class ParseResult { frame, need_more, protocol_error };

// Parses the header at the start of `data` (server frames are never masked). On `frame`, the
// whole payload is present at data + header_bytes.
ParseResult parse_server_frame(std::string_view data, ServerFrame& frame);

// The HTTP/1.1 upgrade request; `extra_headers` are complete lines ending in "\r\n".
std::string upgrade_request(std::string_view host, std::string_view path, std::string_view extra_headers);

}  // namespace bench::ws
