// The latency arithmetic of docs/protocol.md sections 7.2 and 9: event times, the clock offset
// from ready and pongs, and the percentiles over the last 1,000 live events.
#include <catch2/catch.hpp>

#include "globemeet/core/latency.hpp"

using namespace globemeet::core;

namespace {
constexpr std::int64_t t_event = 1'795'802'531'204;  // 2026-11-27T18:02:11.204Z
}

TEST_CASE("event times are RFC 3339: milliseconds of any fraction, Z or a numeric offset", "[latency]") {
  CHECK(parse_rfc3339_ms("2026-11-27T18:02:11.204Z") == t_event);
  CHECK(parse_rfc3339_ms("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_rfc3339_ms("1969-12-31T23:59:59.999Z") == -1);
  CHECK(parse_rfc3339_ms("2026-11-27T18:02:11Z") == t_event - 204);
  CHECK(parse_rfc3339_ms("2026-11-27T18:02:11.2Z") == t_event - 4);
  CHECK(parse_rfc3339_ms("2026-11-27T18:02:11.204999Z") == t_event);  // beyond ms: cut, not rounded
  CHECK(parse_rfc3339_ms("2026-11-27t18:02:11.204z") == t_event);
  CHECK(parse_rfc3339_ms("2026-11-27T19:02:11.204+01:00") == t_event);
  CHECK(parse_rfc3339_ms("2026-11-27T17:32:11.204-00:30") == t_event);
  CHECK(parse_rfc3339_ms("2024-02-29T00:00:00Z") == 1'709'164'800'000);  // a leap day
  CHECK(parse_rfc3339_ms("2000-02-29T00:00:00Z") == 951'782'400'000);
  for (const char* bad : {"", "2026-11-27", "2026-11-27T18:02:11.204", "2026-11-27 18:02:11.204Z",
                          "2026-13-27T18:02:11.204Z", "2026-11-27T24:02:11.204Z", "2026-11-27T18:02:11.Z",
                          "2026-11-27T18:02:11.204Zx", "2026-11-27T18:02:11.204+0100", "26-11-27T18:02:11Z",
                          "2026-11-27T18:02:11.204+01:60", "２026-11-27T18:02:11Z", "2026-02-29T00:00:00Z",
                          "1900-02-29T00:00:00Z", "2026-04-31T00:00:00Z"}) {
    INFO(bad);
    CHECK_FALSE(parse_rfc3339_ms(bad).has_value());
  }
}

TEST_CASE("the clock offset: ready first, then the pong with the shortest round trip of the last 8", "[latency]") {
  latency_tracker l;
  CHECK(l.stats() == latency_stats{0, 0, 0, 0});  // unknown: 0
  CHECK(l.delay_ms("2026-11-27T18:02:11.204Z", t_event + 40) == 40);
  CHECK_FALSE(l.delay_ms("yesterday", t_event).has_value());

  l.on_ready(t_event + 5'000, t_event);  // the server's clock is 5 s ahead (minus the one-way delay)
  CHECK(l.stats().clock_offset_ms == 5'000);
  CHECK(l.delay_ms("2026-11-27T18:02:11.204Z", t_event) == 5'000);

  // Pong: sent at 1000, answered at 1100 (round trip 100), the server read 6050 at its midpoint 1050.
  l.on_pong(t_event + 6'050, t_event + 1'000, t_event + 1'100);
  CHECK(l.stats().clock_offset_ms == 5'000);
  l.on_pong(t_event + 7'020, t_event + 2'000, t_event + 2'040);  // round trip 40: better, offset 5000
  l.on_pong(t_event + 8'100, t_event + 3'000, t_event + 3'060);  // 60: worse, not taken
  CHECK(l.stats().clock_offset_ms == 5'000);
  l.on_pong(t_event + 9'011, t_event + 4'000, t_event + 4'020);  // 20: best, offset 5001
  CHECK(l.stats().clock_offset_ms == 5'001);
  l.on_pong(t_event + 9'000, t_event + 5'000, t_event + 4'000);  // the clock stepped back: ignored
  CHECK(l.stats().clock_offset_ms == 5'001);
  l.on_pong(t_event + 9'513, t_event + 4'500, t_event + 4'520);  // 20 again: the newer one wins
  CHECK(l.stats().clock_offset_ms == 5'003);
  // Eight worse pongs push the best one out of the window.
  for (int i = 0; i < 8; ++i) l.on_pong(t_event + 20'000 + i * 1'000 + 15 + i, t_event + 10'000 + i * 1'000,
                                        t_event + 10'000 + i * 1'000 + 30 + i);
  CHECK(l.stats().clock_offset_ms == 10'000);  // the first of them: round trip 30, midpoint +15

  l.on_ready(t_event + 100, t_event);  // a new connection starts afresh
  CHECK(l.stats().clock_offset_ms == 100);
  l.on_ready(std::nullopt, t_event);  // a server before time_ms: the offset stays
  CHECK(l.stats().clock_offset_ms == 100);
}

TEST_CASE("p50 and p99 by nearest rank over the last 1,000 recorded delays", "[latency]") {
  latency_tracker l;
  l.record(7);
  CHECK(l.stats() == latency_stats{1, 7, 7, 0});
  for (int i = 1; i <= 100; ++i) l.record(i);  // 7, 1..100
  CHECK(l.stats().count == 101);  // the events in the window
  CHECK(l.stats().p50_ms == 50);   // rank 51 of 101
  CHECK(l.stats().p99_ms == 99);   // rank 100 of 101
  for (int i = 0; i < 1'000; ++i) l.record(i < 980 ? 3 : 500);  // the window now holds only these
  CHECK(l.stats() == latency_stats{1'000, 3, 500, 0});
  for (int i = 0; i < 10; ++i) l.record(-2);  // a skewed clock gives negative delays: kept as they are
  CHECK(l.stats() == latency_stats{1'000, 3, 500, 0});
}
