// Event ids `{epoch}-{seq}` (docs/protocol.md section 5). The text form is canonical: exactly
// one spelling per id (lowercase hex epoch, seq without leading zeros), so ids compare as text
// and parse(str()) round-trips.
#include "globemeet/core/event_id.hpp"

#include <charconv>

namespace globemeet::core {
namespace {

constexpr std::size_t max_epoch_digits = 16;
constexpr std::size_t max_seq_digits = 16;  // 2^53-1 = 9007199254740991 has 16 digits

bool is_epoch_digit(char c) noexcept { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool is_valid_epoch(std::string_view epoch) noexcept {
  if (epoch.empty() || epoch.size() > max_epoch_digits) return false;
  for (const char c : epoch) {
    if (!is_epoch_digit(c)) return false;
  }
  return true;
}

// 0 .. 2^53-1, decimal, no sign, no leading zero (so "0" alone is the only spelling of zero).
// At most 16 digits, so the sum cannot overflow.
std::optional<std::uint64_t> parse_seq(std::string_view text) noexcept {
  if (text.empty() || text.size() > max_seq_digits) return std::nullopt;
  if (text.front() == '0' && text.size() > 1) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value > max_seq) return std::nullopt;
  return value;
}

}  // namespace

std::optional<event_id> event_id::parse(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto epoch = text.substr(0, dash);
  if (!is_valid_epoch(epoch)) return std::nullopt;
  const auto seq = parse_seq(text.substr(dash + 1));
  if (!seq) return std::nullopt;
  return event_id{std::string(epoch), *seq};
}

std::optional<event_id> event_id::parse_event(std::string_view text) {
  auto id = parse(text);
  if (id && !id->names_event()) return std::nullopt;
  return id;
}

std::string event_id::str() const {
  char digits[20];  // any uint64 fits in 20 decimal digits
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, seq);
  std::string text;
  text.reserve(epoch.size() + 1 + static_cast<std::size_t>(end - digits));
  text.append(epoch).append(1, '-').append(digits, end);
  (void)ec;  // cannot fail: the buffer holds every uint64
  return text;
}

}  // namespace globemeet::core
