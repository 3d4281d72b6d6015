#include "globemeet/server/wire/frame_parser.hpp"

#include <algorithm>
#include <cstring>

#include "unmask.hpp"

namespace globemeet::server::wire {
namespace {

constexpr std::uint8_t fin_bit = 0x80;
constexpr std::uint8_t rsv_bits = 0x70;
constexpr std::uint8_t opcode_bits = 0x0F;
constexpr std::uint8_t mask_bit = 0x80;
constexpr std::uint8_t length_bits = 0x7F;

constexpr bool is_control(opcode op) noexcept { return (static_cast<std::uint8_t>(op) & 0x8) != 0; }

constexpr bool is_known_opcode(std::uint8_t op) noexcept {
  return op <= 0x2 || (op >= 0x8 && op <= 0xA);
}

// Header size once the first two bytes are known: 2, the extended length, the 4-byte mask.
constexpr std::size_t header_size(std::uint8_t second_byte) noexcept {
  const std::uint8_t length7 = second_byte & length_bits;
  const std::size_t extended = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
  return 2 + extended + 4;
}

}  // namespace

frame_parser::frame_parser(parser_limits limits) : limits_(limits) {}

void frame_parser::feed(std::string_view bytes, std::vector<frame_event>& events) {
  const auto* at = reinterpret_cast<const std::uint8_t*>(bytes.data());
  const auto* const end = at + bytes.size();
  while (!finished_ && at != end) {
    if (stage_ == stage::header) {
      parse_header(at, end, events);
    } else {
      consume_payload(at, end, events);
    }
  }
}

void frame_parser::fail(std::uint16_t code, std::string_view why, std::vector<frame_event>& events) {
  events.push_back({frame_event::kind::protocol_error, code, std::string(why)});
  finished_ = true;
  message_.clear();
  control_.clear();
}

void frame_parser::parse_header(const std::uint8_t*& at, const std::uint8_t* end,
                                std::vector<frame_event>& events) {
  // First the two fixed bytes; they are checked at once, so a bad frame fails fast.
  if (header_have_ < 2) {
    const std::size_t take = std::min<std::size_t>(2 - header_have_, static_cast<std::size_t>(end - at));
    std::memcpy(header_.data() + header_have_, at, take);
    header_have_ += take;
    at += take;
    if (header_have_ < 2 || !check_header(events)) return;
  }
  const std::size_t needed = header_size(header_[1]);
  const std::size_t take = std::min(needed - header_have_, static_cast<std::size_t>(end - at));
  std::memcpy(header_.data() + header_have_, at, take);
  header_have_ += take;
  at += take;
  if (header_have_ < needed) return;

  // The full header is here: length, then mask.
  const std::uint8_t length7 = header_[1] & length_bits;
  std::uint64_t length = length7;
  std::size_t mask_at = 2;
  if (length7 == 126) {
    length = (std::uint64_t{header_[2]} << 8) | header_[3];
    mask_at = 4;
    if (length < 126) return fail(close_code::protocol_error, "payload length not minimally encoded", events);
  } else if (length7 == 127) {
    length = 0;
    for (std::size_t i = 0; i < 8; ++i) length = (length << 8) | header_[2 + i];
    mask_at = 10;
    if ((length >> 63) != 0) return fail(close_code::protocol_error, "payload length has its top bit set", events);
    if (length <= 0xFFFF) return fail(close_code::protocol_error, "payload length not minimally encoded", events);
  }
  std::memcpy(mask_.data(), header_.data() + mask_at, mask_.size());

  if (!is_control(opcode_)) {
    // message_ never exceeds the limit, so the subtraction cannot wrap.
    if (length > limits_.max_message_size - message_.size()) {
      return fail(close_code::message_too_big, "message larger than the limit", events);
    }
    if (opcode_ == opcode::text) {
      in_message_ = true;
      // No reserve(length): a client could announce 64 KiB and send nothing, on many
      // connections. The buffer grows with the bytes that actually arrive.
      message_.clear();
      message_utf8_.reset();
    }
  } else {
    control_.clear();
  }

  payload_left_ = length;
  mask_offset_ = 0;
  stage_ = stage::payload;
  header_have_ = 0;
  if (payload_left_ == 0) finish_frame(events);
}

bool frame_parser::check_header(std::vector<frame_event>& events) {
  const std::uint8_t first = header_[0];
  const std::uint8_t second = header_[1];
  const auto raw_opcode = static_cast<std::uint8_t>(first & opcode_bits);
  fin_ = (first & fin_bit) != 0;

  if ((first & rsv_bits) != 0) {
    fail(close_code::protocol_error, "reserved bits set without a negotiated extension", events);
    return false;
  }
  if (!is_known_opcode(raw_opcode)) {
    fail(close_code::protocol_error, "unknown opcode", events);
    return false;
  }
  if ((second & mask_bit) == 0) {
    fail(close_code::protocol_error, "client frame not masked", events);
    return false;
  }
  opcode_ = static_cast<opcode>(raw_opcode);
  if (is_control(opcode_)) {
    if (!fin_) {
      fail(close_code::protocol_error, "fragmented control frame", events);
      return false;
    }
    if ((second & length_bits) > max_control_payload) {
      fail(close_code::protocol_error, "control frame payload over 125 bytes", events);
      return false;
    }
    return true;
  }
  if (opcode_ == opcode::continuation) {
    if (!in_message_) {
      fail(close_code::protocol_error, "continuation frame outside a fragmented message", events);
      return false;
    }
    return true;
  }
  if (in_message_) {
    fail(close_code::protocol_error, "new data frame inside a fragmented message", events);
    return false;
  }
  if (opcode_ == opcode::binary) {
    fail(close_code::unsupported_data, "binary messages are not accepted", events);
    return false;
  }
  return true;
}

void frame_parser::consume_payload(const std::uint8_t*& at, const std::uint8_t* end,
                                   std::vector<frame_event>& events) {
  const auto available = static_cast<std::size_t>(end - at);
  const std::size_t take = payload_left_ < available ? static_cast<std::size_t>(payload_left_) : available;

  std::string& target = is_control(opcode_) ? control_ : message_;
  const std::size_t old_size = target.size();
  target.resize(old_size + take);
  auto* chunk = reinterpret_cast<std::uint8_t*>(target.data()) + old_size;
  std::memcpy(chunk, at, take);
  detail::unmask(chunk, take, mask_, mask_offset_);
  mask_offset_ = (mask_offset_ + take) % 4;
  at += take;
  payload_left_ -= take;

  // Text is checked as it arrives, so an invalid byte fails before the message completes.
  if (!is_control(opcode_) && !message_utf8_.feed(chunk, take)) {
    return fail(close_code::invalid_payload, "text message is not valid UTF-8", events);
  }
  if (payload_left_ == 0) finish_frame(events);
}

void frame_parser::finish_frame(std::vector<frame_event>& events) {
  stage_ = stage::header;
  switch (opcode_) {
    case opcode::ping:
      events.push_back({frame_event::kind::ping, 0, std::move(control_)});
      control_.clear();
      return;
    case opcode::pong:
      events.push_back({frame_event::kind::pong, 0, std::move(control_)});
      control_.clear();
      return;
    case opcode::close:
      return finish_close(events);
    default:
      break;
  }
  if (!fin_) return;  // more fragments follow
  if (!message_utf8_.complete()) {
    return fail(close_code::invalid_payload, "text message ends inside a UTF-8 sequence", events);
  }
  events.push_back({frame_event::kind::text, 0, std::move(message_)});
  message_.clear();
  in_message_ = false;
}

void frame_parser::finish_close(std::vector<frame_event>& events) {
  if (control_.empty()) {
    events.push_back({frame_event::kind::close, close_code::no_status, {}});
    finished_ = true;
    return;
  }
  if (control_.size() == 1) {
    return fail(close_code::protocol_error, "close payload of one byte", events);
  }
  const auto code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(control_[0]) << 8) |
                                               static_cast<std::uint8_t>(control_[1]));
  if (!is_valid_close_code(code)) {
    return fail(close_code::protocol_error, "invalid close code", events);
  }
  std::string reason = control_.substr(2);
  if (!is_valid_utf8(reason)) {
    return fail(close_code::protocol_error, "close reason is not valid UTF-8", events);
  }
  events.push_back({frame_event::kind::close, code, std::move(reason)});
  finished_ = true;
}

}  // namespace globemeet::server::wire
