// Server-side framing (RFC 6455 section 5.2). Server frames are never masked and never
// fragmented here: every call writes one complete frame with FIN set.
//
// Two ways to write a data frame:
//  * append_text_frame() copies header and payload into one outbound buffer (small frames);
//  * header_for() returns only the 2/4/10-byte header, so fan-out can gather-write
//    [header][shared payload] per connection without copying the serialized event.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "globemeet/server/wire/frame.hpp"

namespace globemeet::server::wire {

// A frame header held by value: cheap to keep next to a queued payload pointer.
class frame_header {
 public:
  static constexpr std::size_t max_size = 10;

  const std::uint8_t* data() const noexcept { return bytes_.data(); }
  std::size_t size() const noexcept { return size_; }
  std::string_view view() const noexcept {
    return {reinterpret_cast<const char*>(bytes_.data()), size_};
  }

 private:
  friend frame_header header_for(std::size_t payload_size, opcode op) noexcept;
  std::array<std::uint8_t, max_size> bytes_{};
  std::uint8_t size_ = 0;
};

// The header of one unmasked, final frame of `op` carrying `payload_size` bytes.
// For control opcodes the caller keeps payload_size <= max_control_payload.
frame_header header_for(std::size_t payload_size, opcode op) noexcept;

// Appends one complete frame of `op` with `payload` to `out`.
void append_frame(std::string& out, opcode op, std::string_view payload);

// Appends one text frame. The payload is sent as is: the caller provides valid UTF-8.
void append_text_frame(std::string& out, std::string_view payload);

// Appends a ping / pong. Only the first max_control_payload bytes of `payload` are sent.
void append_ping_frame(std::string& out, std::string_view payload = {});
void append_pong_frame(std::string& out, std::string_view payload);

// Appends a close frame with `code` and `reason`; the reason is cut to max_close_reason bytes
// at a UTF-8 character boundary. `code` is one is_valid_close_code() accepts, or
// close_code::no_status, which writes an empty close payload (1005 may not be sent; it is how a
// client's empty close is echoed).
void append_close_frame(std::string& out, std::uint16_t code, std::string_view reason = {});

}  // namespace globemeet::server::wire
