// Latency the client can see (docs/protocol.md sections 7.2 and 9): the offset between the
// server's clock and the local one, each event's delivery delay, and a running p50/p99.
// Sans I/O like the rest of the core: every time comes in as an argument.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace globemeet::core {

// Unix milliseconds of an RFC 3339 date-time ("2026-11-27T18:02:11.204Z"; a fraction of any
// length, of which milliseconds count; `Z` or a numeric offset), or nullopt when `text` is not one.
std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text) noexcept;

struct latency_stats {
  std::uint64_t count = 0;           // live events in the window: the last ones, at most 1,000
  std::int64_t p50_ms = 0;           // the delay's percentiles over them; 0 while count is 0
  std::int64_t p99_ms = 0;
  std::int64_t clock_offset_ms = 0;  // the server's clock minus the local one; 0 until known
  friend bool operator==(const latency_stats&, const latency_stats&) = default;
};

class latency_tracker {
 public:
  static constexpr std::size_t window = 1000;     // live events in the percentiles
  static constexpr std::size_t pong_samples = 8;  // pongs the offset is chosen from

  // `ready.time_ms` (absent from older servers: the offset stays) against the local clock when
  // `ready` arrived. A new connection (perhaps to another node) starts its estimate afresh: the
  // pongs of the previous one are forgotten.
  void on_ready(std::optional<std::int64_t> server_ms, std::int64_t local_ms) noexcept;
  // `pong.time_ms` for a ping sent at `sent_ms` and answered at `received_ms` (local clock): the
  // server read its clock about halfway. Of the last 8 pongs the shortest round trip wins, the
  // newest of equals.
  void on_pong(std::int64_t server_ms, std::int64_t sent_ms, std::int64_t received_ms) noexcept;

  // Local clock + offset - the event's `time`; nullopt when `time` does not parse.
  std::optional<std::int64_t> delay_ms(std::string_view time, std::int64_t now_ms) const noexcept;
  void record(std::int64_t delay_ms) noexcept;  // a live event's delay, into the percentiles
  latency_stats stats() const;

 private:
  struct pong { std::int64_t round_trip_ms = 0, offset_ms = 0; };
  std::int64_t offset_ms_ = 0;
  std::array<pong, pong_samples> pongs_{};
  std::size_t pong_count_ = 0, pong_next_ = 0;
  std::array<std::int64_t, window> delays_{};  // a ring: no allocation per event
  std::uint64_t count_ = 0;
};

}  // namespace globemeet::core
