// Event ids `{epoch}-{seq}` (docs/protocol.md section 5): parse, format, order.
//
// One syntax names two things. An *event* carries seq 1 to 2^53-1. A *position* (`from`,
// `Last-Event-ID`, `head`, `reset.position`, the client's last id) may also be seq 0: the start
// of the epoch, before its first event, so that a client that has received nothing still holds
// a place to resume from and an outage before the first event loses nothing.
#pragma once
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace globemeet::core {

struct event_id {
  std::string epoch;      // 1..16 lowercase hex digits
  std::uint64_t seq = 0;  // 0 .. 2^53-1; 0 only for a position, never for an event

  // A position: seq 0 .. 2^53-1.
  static std::optional<event_id> parse(std::string_view text);
  // The id of an event: seq 1 .. 2^53-1 (an `event` frame's `id`).
  static std::optional<event_id> parse_event(std::string_view text);
  bool names_event() const noexcept { return seq != 0; }
  std::string str() const;
  friend bool operator==(const event_id&, const event_id&) = default;
};

inline constexpr std::uint64_t max_seq = (std::uint64_t{1} << 53) - 1;

}  // namespace globemeet::core
