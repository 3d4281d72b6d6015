// Reconnect delays: exponential growth with full jitter (docs/protocol.md section 9).
// The random number comes in as an argument, so the same inputs always give the same delay.
#pragma once
#include <cstdint>

namespace globemeet::core {

struct backoff_policy {
  std::int64_t min_ms = 500;
  std::int64_t max_ms = 30'000;
  double factor = 2.0;
};

// Delay before reconnect attempt `attempt` (0 for the first retry): uniform in
// [0, min(max_ms, min_ms * factor^attempt)], chosen by `random01` in [0, 1).
std::int64_t backoff_delay(const backoff_policy& policy, unsigned attempt, double random01) noexcept;

}  // namespace globemeet::core
