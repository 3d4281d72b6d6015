// Incremental parser of the frames a client sends (RFC 6455 section 5), sans-I/O: the server
// feeds whatever bytes a read returned and gets complete messages and control frames back.
//
// Enforced (each violation ends parsing with a protocol_error event carrying the close code the
// server must send):
//  * every client frame masked; RSV1-3 clear (no extension is negotiated); known opcodes  -> 1002
//  * control frames: payload <= 125 bytes and FIN set                                     -> 1002
//  * fragmentation: continuation only inside a message, no new data frame inside one      -> 1002
//  * payload lengths in minimal encoding, 64-bit lengths with the top bit clear           -> 1002
//  * close payload: empty, or a valid code plus a UTF-8 reason (a 1-byte payload is bad)  -> 1002
//  * binary messages                                                                      -> 1003
//  * text messages valid UTF-8, checked incrementally across fragments                    -> 1007
//  * a message (all fragments together) larger than max_message_size                      -> 1009
//
// After a close or a protocol_error event the parser ignores any further input: the server
// answers with its close frame and reads nothing more from that connection.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "globemeet/server/wire/frame.hpp"
#include "globemeet/server/wire/utf8.hpp"

namespace globemeet::server::wire {

struct parser_limits {
  // Largest message payload accepted, summed over its fragments.
  std::size_t max_message_size = default_max_message_size;
};

struct frame_event {
  enum class kind : std::uint8_t {
    text,            // a complete text message; `payload` is its UTF-8 text
    ping,            // `payload` is the ping data (answer with a pong carrying it)
    pong,            // `payload` is the pong data
    close,           // the client closed: `code` (close_code::no_status if none), `payload` the reason
    protocol_error,  // the client broke the protocol: close with `code`; `payload` says why
  };

  kind type = kind::text;
  std::uint16_t code = 0;
  std::string payload;
};

class frame_parser {
 public:
  explicit frame_parser(parser_limits limits = {});

  // Consumes `bytes` and appends an event to `events` for each completed message, control
  // frame or the first error. Never reads outside `bytes`; keeps at most one partial header,
  // one control payload and the message being assembled between calls.
  void feed(std::string_view bytes, std::vector<frame_event>& events);

  // True once a close or protocol_error event was produced; later input is ignored.
  bool finished() const noexcept { return finished_; }

 private:
  enum class stage : std::uint8_t { header, payload };

  void parse_header(const std::uint8_t*& at, const std::uint8_t* end,
                    std::vector<frame_event>& events);
  void consume_payload(const std::uint8_t*& at, const std::uint8_t* end,
                       std::vector<frame_event>& events);
  bool check_header(std::vector<frame_event>& events);
  void finish_frame(std::vector<frame_event>& events);
  void finish_close(std::vector<frame_event>& events);
  void fail(std::uint16_t code, std::string_view why, std::vector<frame_event>& events);

  parser_limits limits_;
  stage stage_ = stage::header;
  bool finished_ = false;

  // The header being read: at most 2 + 8 + 4 bytes.
  std::array<std::uint8_t, 14> header_{};
  std::size_t header_have_ = 0;

  // The frame being read.
  bool fin_ = false;
  opcode opcode_ = opcode::text;
  std::array<std::uint8_t, 4> mask_{};
  std::uint64_t payload_left_ = 0;
  std::size_t mask_offset_ = 0;  // payload bytes of this frame unmasked so far, mod 4

  // The fragmented text message in progress, and its UTF-8 state across fragments.
  bool in_message_ = false;
  std::string message_;
  utf8_validator message_utf8_;

  // The payload of the control frame being read.
  std::string control_;
};

}  // namespace globemeet::server::wire
