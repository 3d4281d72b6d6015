// Vocabulary of the WebSocket wire (RFC 6455 section 5): opcodes and the close codes the
// server's wire layer itself sends or interprets. Application close codes (4000-4499) belong to
// docs/protocol.md section 8 and are not repeated here.
#pragma once
#include <cstddef>
#include <cstdint>

namespace globemeet::server::wire {

enum class opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

// RFC 6455 section 7.4.1 codes used by this layer.
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t unsupported_data = 1003;
// Reported when a close frame carried no code; never sent on the wire.
inline constexpr std::uint16_t no_status = 1005;
inline constexpr std::uint16_t invalid_payload = 1007;
inline constexpr std::uint16_t policy_violation = 1008;
inline constexpr std::uint16_t message_too_big = 1009;
inline constexpr std::uint16_t internal_error = 1011;
}  // namespace close_code

// Control frames (close, ping, pong) carry at most 125 payload bytes (RFC 6455 5.5).
inline constexpr std::size_t max_control_payload = 125;
// A close reason is what is left after the 2-byte code.
inline constexpr std::size_t max_close_reason = max_control_payload - 2;

// The largest client message (all fragments together) by default: docs/protocol.md section 10.
inline constexpr std::size_t default_max_message_size = 65536;

// Whether a peer may put `code` in a close frame (RFC 6455 7.4.1/7.4.2 and the IANA registry):
// 1000-1003, 1007-1014 and 3000-4999. 1004, 1005, 1006, 1015 and the rest are invalid.
bool is_valid_close_code(std::uint16_t code) noexcept;

}  // namespace globemeet::server::wire
