#include "globemeet/server/events/time_format.hpp"

#include <array>

namespace globemeet::server::events {
namespace {

constexpr std::int64_t ms_per_day = 86'400'000;
// 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z in Unix milliseconds.
constexpr std::int64_t min_unix_ms = -62'167'219'200'000;
constexpr std::int64_t max_unix_ms = 253'402'300'799'999;

struct civil_date {
  std::int64_t year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's civil_from_days).
civil_date civil_from_days(std::int64_t days) noexcept {
  days += 719'468;
  const std::int64_t era = (days >= 0 ? days : days - 146'096) / 146'097;
  const auto day_of_era = static_cast<unsigned>(days - era * 146'097);
  const unsigned year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36'524 - day_of_era / 146'096) / 365;
  const unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned month_index = (5 * day_of_year + 2) / 153;  // March = 0
  const unsigned day = day_of_year - (153 * month_index + 2) / 5 + 1;
  const unsigned month = month_index < 10 ? month_index + 3 : month_index - 9;
  const std::int64_t year = static_cast<std::int64_t>(year_of_era) + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

void put_digits(std::string& out, std::int64_t value, int width) {
  std::array<char, 8> digits{};
  for (int i = width - 1; i >= 0; --i) {
    digits[static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(digits.data(), static_cast<std::size_t>(width));
}

}  // namespace

std::string format_rfc3339_ms(std::int64_t unix_ms) {
  if (unix_ms < min_unix_ms) unix_ms = min_unix_ms;
  if (unix_ms > max_unix_ms) unix_ms = max_unix_ms;
  // Floor division so that times before 1970 land on the right day.
  std::int64_t days = unix_ms / ms_per_day;
  std::int64_t ms_of_day = unix_ms % ms_per_day;
  if (ms_of_day < 0) {
    ms_of_day += ms_per_day;
    --days;
  }
  const civil_date date = civil_from_days(days);

  std::string out;
  out.reserve(24);
  put_digits(out, date.year, 4);
  out += '-';
  put_digits(out, date.month, 2);
  out += '-';
  put_digits(out, date.day, 2);
  out += 'T';
  put_digits(out, ms_of_day / 3'600'000, 2);
  out += ':';
  put_digits(out, ms_of_day / 60'000 % 60, 2);
  out += ':';
  put_digits(out, ms_of_day / 1'000 % 60, 2);
  out += '.';
  put_digits(out, ms_of_day % 1'000, 3);
  out += 'Z';
  return out;
}

}  // namespace globemeet::server::events
