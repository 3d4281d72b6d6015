// A masked client frame (RFC 6455 section 5.2) written independently of the server's framing
// code, so the frame parser target can check that a parsed frame re-encodes to its own bytes.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace globemeet::fuzz {

inline std::size_t client_header_size(std::size_t payload_size) {
  return payload_size < 126 ? 6 : payload_size <= 0xFFFF ? 8 : 14;  // with the 4 mask bytes
}

// One final frame of `opcode` with minimal length encoding, `payload` masked with `mask`.
inline std::string masked_frame(std::uint8_t opcode, std::string_view payload, std::array<std::uint8_t, 4> mask) {
  std::string out;
  out.push_back(static_cast<char>(0x80 | opcode));
  const std::size_t n = payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(0x80 | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xFF));
  }
  for (const auto m : mask) out.push_back(static_cast<char>(m));
  for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<char>(static_cast<std::uint8_t>(payload[i]) ^ mask[i % 4]));
  return out;
}

}  // namespace globemeet::fuzz
