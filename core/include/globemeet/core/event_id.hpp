// Event ids `{epoch}-{seq}` (docs/protocol.md section 5): parse, format, order.
#pragma once
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace globemeet::core {

struct event_id {
  std::string epoch;      // 1..16 lowercase hex digits
  std::uint64_t seq = 0;  // 1 .. 2^53-1

  static std::optional<event_id> parse(std::string_view text);
  std::string str() const;
  friend bool operator==(const event_id&, const event_id&) = default;
};

inline constexpr std::uint64_t max_seq = (std::uint64_t{1} << 53) - 1;

}  // namespace globemeet::core
