#include "globemeet/server/wire/frame_writer.hpp"

#include "globemeet/server/wire/utf8.hpp"

namespace globemeet::server::wire {

frame_header header_for(std::size_t payload_size, opcode op) noexcept {
  frame_header header;
  auto& b = header.bytes_;
  b[0] = static_cast<std::uint8_t>(0x80 | static_cast<std::uint8_t>(op));  // FIN, no RSV
  // Lengths use the shortest of the three encodings (RFC 6455 5.2); server frames are unmasked.
  if (payload_size < 126) {
    b[1] = static_cast<std::uint8_t>(payload_size);
    header.size_ = 2;
  } else if (payload_size <= 0xFFFF) {
    b[1] = 126;
    b[2] = static_cast<std::uint8_t>(payload_size >> 8);
    b[3] = static_cast<std::uint8_t>(payload_size);
    header.size_ = 4;
  } else {
    b[1] = 127;
    const auto size64 = static_cast<std::uint64_t>(payload_size);
    for (int i = 0; i < 8; ++i) b[2 + i] = static_cast<std::uint8_t>(size64 >> (56 - 8 * i));
    header.size_ = 10;
  }
  return header;
}

void append_frame(std::string& out, opcode op, std::string_view payload) {
  const frame_header header = header_for(payload.size(), op);
  out.reserve(out.size() + header.size() + payload.size());
  out.append(header.view());
  out.append(payload);
}

void append_text_frame(std::string& out, std::string_view payload) {
  append_frame(out, opcode::text, payload);
}

void append_ping_frame(std::string& out, std::string_view payload) {
  append_frame(out, opcode::ping, payload.substr(0, max_control_payload));
}

void append_pong_frame(std::string& out, std::string_view payload) {
  append_frame(out, opcode::pong, payload.substr(0, max_control_payload));
}

void append_close_frame(std::string& out, std::uint16_t code, std::string_view reason) {
  if (code == close_code::no_status) {
    append_frame(out, opcode::close, {});
    return;
  }
  const std::string_view kept = truncate_utf8(reason, max_close_reason);
  const frame_header header = header_for(2 + kept.size(), opcode::close);
  out.reserve(out.size() + header.size() + 2 + kept.size());
  out.append(header.view());
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xFF));
  out.append(kept);
}

}  // namespace globemeet::server::wire
