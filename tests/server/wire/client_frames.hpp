// Test helpers: build client frames byte by byte (masked unless told otherwise, with any
// header bits a test needs) and run the parser over them in one piece or in parts.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "globemeet/server/wire/frame_parser.hpp"

namespace wire_test {

namespace wire = globemeet::server::wire;

struct frame_spec {
  std::uint8_t opcode = 0x1;
  bool fin = true;
  std::uint8_t rsv = 0;  // the three RSV bits, 0..7
  bool masked = true;
  std::array<std::uint8_t, 4> mask{0x37, 0xfa, 0x21, 0x3d};
  // 0: the minimal length encoding; 2 or 8: force the 16- or 64-bit extended length.
  int length_bytes = 0;
};

inline std::string encode(const frame_spec& spec, std::string_view payload) {
  std::string out;
  out.push_back(static_cast<char>((spec.fin ? 0x80 : 0) | (spec.rsv << 4) | spec.opcode));
  const std::uint8_t mask_bit = spec.masked ? 0x80 : 0;
  const std::size_t size = payload.size();
  int length_bytes = spec.length_bytes;
  if (length_bytes == 0) length_bytes = size < 126 ? 0 : size <= 0xFFFF ? 2 : 8;
  if (length_bytes == 0) {
    out.push_back(static_cast<char>(mask_bit | size));
  } else if (length_bytes == 2) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(size >> 8));
    out.push_back(static_cast<char>(size & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((std::uint64_t{size} >> (8 * i)) & 0xFF));
  }
  if (spec.masked) {
    for (const auto b : spec.mask) out.push_back(static_cast<char>(b));
  }
  for (std::size_t i = 0; i < size; ++i) {
    const auto key = spec.masked ? spec.mask[i % 4] : std::uint8_t{0};
    out.push_back(static_cast<char>(static_cast<std::uint8_t>(payload[i]) ^ key));
  }
  return out;
}

inline std::string frame(std::uint8_t opcode, std::string_view payload, bool fin = true) {
  frame_spec spec;
  spec.opcode = opcode;
  spec.fin = fin;
  return encode(spec, payload);
}

inline std::string text(std::string_view payload, bool fin = true) { return frame(0x1, payload, fin); }
inline std::string continuation(std::string_view payload, bool fin = true) { return frame(0x0, payload, fin); }

inline std::string close_payload(std::uint16_t code, std::string_view reason = {}) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason);
  return payload;
}

inline std::vector<wire::frame_event> parse(std::string_view bytes, wire::parser_limits limits = {}) {
  wire::frame_parser parser(limits);
  std::vector<wire::frame_event> events;
  parser.feed(bytes, events);
  return events;
}

// Feeds `bytes` as consecutive parts cut at `cuts` (ascending offsets).
inline std::vector<wire::frame_event> parse_in_parts(std::string_view bytes, const std::vector<std::size_t>& cuts,
                                                    wire::parser_limits limits = {}) {
  wire::frame_parser parser(limits);
  std::vector<wire::frame_event> events;
  std::size_t from = 0;
  for (const std::size_t cut : cuts) {
    parser.feed(bytes.substr(from, cut - from), events);
    from = cut;
  }
  parser.feed(bytes.substr(from), events);
  return events;
}

inline bool same_events(const std::vector<wire::frame_event>& a, const std::vector<wire::frame_event>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].type != b[i].type || a[i].code != b[i].code || a[i].payload != b[i].payload) return false;
  }
  return true;
}

}  // namespace wire_test
