#include "ws_framing.hpp"

#include <cstring>

namespace bench::ws {

void append_client_frame(std::string& out, Opcode opcode, std::string_view payload, std::uint32_t mask_key) {
  const std::size_t start = out.size();
  const std::size_t n = payload.size();
  std::size_t header = 2 + 4;
  if (n >= 65536) header += 8; else if (n >= 126) header += 2;
  out.resize(start + header + n);
  auto* p = reinterpret_cast<unsigned char*>(out.data() + start);
  *p++ = static_cast<unsigned char>(0x80u | static_cast<unsigned>(opcode));
  if (n < 126) {
    *p++ = static_cast<unsigned char>(0x80u | n);
  } else if (n < 65536) {
    *p++ = 0x80u | 126u;
    *p++ = static_cast<unsigned char>(n >> 8);
    *p++ = static_cast<unsigned char>(n);
  } else {
    *p++ = 0x80u | 127u;
    for (int shift = 56; shift >= 0; shift -= 8) *p++ = static_cast<unsigned char>(static_cast<std::uint64_t>(n) >> shift);
  }
  unsigned char key[4];
  std::memcpy(key, &mask_key, 4);
  std::memcpy(p, key, 4);
  p += 4;
  const auto* src = reinterpret_cast<const unsigned char*>(payload.data());
  // Mask eight bytes at a time; the key repeats every four bytes.
  std::uint64_t wide_key;
  std::memcpy(&wide_key, key, 4);
  std::memcpy(reinterpret_cast<unsigned char*>(&wide_key) + 4, key, 4);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t chunk;
    std::memcpy(&chunk, src + i, 8);
    chunk ^= wide_key;
    std::memcpy(p + i, &chunk, 8);
  }
  for (; i < n; ++i) p[i] = static_cast<unsigned char>(src[i] ^ key[i & 3]);
}

ParseResult parse_server_frame(std::string_view data, ServerFrame& frame) {
  if (data.size() < 2) return ParseResult::need_more;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  frame.fin = (p[0] & 0x80u) != 0;
  if ((p[0] & 0x70u) != 0) return ParseResult::protocol_error;  // no extension was negotiated
  frame.opcode = static_cast<Opcode>(p[0] & 0x0fu);
  if ((p[1] & 0x80u) != 0) return ParseResult::protocol_error;  // servers never mask
  std::uint64_t len = p[1] & 0x7fu;
  std::size_t header = 2;
  if (len == 126) {
    if (data.size() < 4) return ParseResult::need_more;
    len = (static_cast<std::uint64_t>(p[2]) << 8) | p[3];
    header = 4;
  } else if (len == 127) {
    if (data.size() < 10) return ParseResult::need_more;
    len = 0;
    for (int i = 2; i < 10; ++i) len = (len << 8) | p[i];
    header = 10;
  }
  if (len > (std::uint64_t{1} << 31)) return ParseResult::protocol_error;
  if (data.size() - header < len) return ParseResult::need_more;
  frame.header_bytes = header;
  frame.payload_bytes = static_cast<std::size_t>(len);
  return ParseResult::frame;
}

std::string upgrade_request(std::string_view host, std::string_view path, std::string_view extra_headers) {
  std::string req;
  req.reserve(256 + extra_headers.size());
  req.append("GET ").append(path).append(" HTTP/1.1\r\nHost: ").append(host);
  // A fixed key is allowed (any 16 bytes in base64: RFC 6455's sample nonce); the generator does not check the accept hash.
  req.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Version: 13\r\n");
  req.append(extra_headers);
  req.append("\r\n");
  return req;
}

}  // namespace bench::ws
