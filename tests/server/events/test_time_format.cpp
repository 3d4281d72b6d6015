#include <catch2/catch.hpp>
#include <cstdint>

#include "globemeet/server/events/time_format.hpp"

using globemeet::server::events::format_rfc3339_ms;

TEST_CASE("RFC 3339 times are UTC with milliseconds", "[events][time]") {
  CHECK(format_rfc3339_ms(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_rfc3339_ms(1) == "1970-01-01T00:00:00.001Z");
  CHECK(format_rfc3339_ms(1'795'802'531'204) == "2026-11-27T18:02:11.204Z");
  CHECK(format_rfc3339_ms(951'782'400'000) == "2000-02-29T00:00:00.000Z");    // leap day of a 400-year
  CHECK(format_rfc3339_ms(4'107'542'399'999) == "2100-02-28T23:59:59.999Z");  // 2100 is no leap year
  CHECK(format_rfc3339_ms(4'107'542'400'000) == "2100-03-01T00:00:00.000Z");
  CHECK(format_rfc3339_ms(1'704'067'199'999) == "2023-12-31T23:59:59.999Z");
}

TEST_CASE("times before 1970 land on the right day", "[events][time]") {
  CHECK(format_rfc3339_ms(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(format_rfc3339_ms(-86'400'000) == "1969-12-31T00:00:00.000Z");
}

TEST_CASE("times outside years 0000 to 9999 are clamped", "[events][time]") {
  CHECK(format_rfc3339_ms(-62'167'219'200'000) == "0000-01-01T00:00:00.000Z");
  CHECK(format_rfc3339_ms(INT64_MIN) == "0000-01-01T00:00:00.000Z");
  CHECK(format_rfc3339_ms(253'402'300'799'999) == "9999-12-31T23:59:59.999Z");
  CHECK(format_rfc3339_ms(INT64_MAX) == "9999-12-31T23:59:59.999Z");
}
