#include "globemeet/core/latency.hpp"

#include <algorithm>
#include <vector>

namespace globemeet::core {

namespace {

// Reads exactly `digits` decimal digits at `at`, or fails.
bool read_digits(std::string_view text, std::size_t& at, std::size_t digits, int& out) noexcept {
  if (at + digits > text.size()) return false;
  out = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    const char c = text[at + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  at += digits;
  return true;
}

bool expect(std::string_view text, std::size_t& at, char a, char b = '\0') noexcept {
  if (at >= text.size() || (text[at] != a && (b == '\0' || text[at] != b))) return false;
  ++at;
  return true;
}

// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool leap_year(int y) noexcept { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

int days_in_month(int y, int m) noexcept {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

// Nearest rank: the smallest value with at least p percent of the values at or below it.
std::int64_t percentile(const std::vector<std::int64_t>& sorted, unsigned p) noexcept {
  const std::size_t rank = (sorted.size() * p + 99) / 100;  // ceil(n * p / 100), at least 1
  return sorted[std::max<std::size_t>(rank, 1) - 1];
}

}  // namespace

std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text) noexcept {
  std::size_t at = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(text, at, 4, year) || !expect(text, at, '-') || !read_digits(text, at, 2, month) ||
      !expect(text, at, '-') || !read_digits(text, at, 2, day) || !expect(text, at, 'T', 't') ||
      !read_digits(text, at, 2, hour) || !expect(text, at, ':') || !read_digits(text, at, 2, minute) ||
      !expect(text, at, ':') || !read_digits(text, at, 2, second))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  int millis = 0;
  if (at < text.size() && text[at] == '.') {
    ++at;
    std::size_t digits = 0;
    for (; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, ++digits)
      if (digits < 3) millis = millis * 10 + (text[at] - '0');
    if (digits == 0) return std::nullopt;
    for (; digits < 3; ++digits) millis *= 10;
  }
  std::int64_t offset_minutes = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    const bool negative = text[at++] == '-';
    int oh = 0, om = 0;
    if (!read_digits(text, at, 2, oh) || !expect(text, at, ':') || !read_digits(text, at, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_minutes = (negative ? -1 : 1) * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (at != text.size()) return std::nullopt;
  const std::int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t seconds = days * 86'400 + hour * 3'600 + minute * 60 + second - offset_minutes * 60;
  return seconds * 1'000 + millis;
}

void latency_tracker::on_ready(std::optional<std::int64_t> server_ms, std::int64_t local_ms) noexcept {
  if (server_ms) offset_ms_ = *server_ms - local_ms;
  pong_count_ = 0;
  pong_next_ = 0;
}

void latency_tracker::on_pong(std::int64_t server_ms, std::int64_t sent_ms, std::int64_t received_ms) noexcept {
  const std::int64_t round_trip = received_ms - sent_ms;
  if (round_trip < 0) return;  // the local clock stepped back meanwhile: no measurement
  pongs_[pong_next_] = pong{round_trip, server_ms - (sent_ms + round_trip / 2)};
  pong_next_ = (pong_next_ + 1) % pong_samples;
  pong_count_ = std::min(pong_count_ + 1, pong_samples);
  const pong* best = nullptr;
  for (std::size_t i = 0; i < pong_count_; ++i) {  // oldest to newest
    const pong& p = pongs_[(pong_next_ + pong_samples - pong_count_ + i) % pong_samples];
    if (!best || p.round_trip_ms <= best->round_trip_ms) best = &p;
  }
  offset_ms_ = best->offset_ms;
}

std::optional<std::int64_t> latency_tracker::delay_ms(std::string_view time, std::int64_t now_ms) const noexcept {
  const auto sent = parse_rfc3339_ms(time);
  if (!sent) return std::nullopt;
  return now_ms + offset_ms_ - *sent;
}

void latency_tracker::record(std::int64_t delay_ms) noexcept {
  delays_[count_ % window] = delay_ms;
  ++count_;
}

latency_stats latency_tracker::stats() const {
  latency_stats out;
  out.count = std::min<std::uint64_t>(count_, window);
  out.clock_offset_ms = offset_ms_;
  if (out.count == 0) return out;
  std::vector<std::int64_t> sorted(delays_.begin(), delays_.begin() + static_cast<std::ptrdiff_t>(out.count));
  std::sort(sorted.begin(), sorted.end());
  out.p50_ms = percentile(sorted, 50);
  out.p99_ms = percentile(sorted, 99);
  return out;
}

}  // namespace globemeet::core
