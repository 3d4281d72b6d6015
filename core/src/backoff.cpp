// Full-jitter backoff (docs/protocol.md section 9), computed so that native and wasm builds give
// the same delay for the same inputs, bit for bit:
//   cap   = min(max_ms, floor(min_ms * factor^attempt))
//   delay = min(cap, floor(random01 * (cap + 1)))       -- uniform over the integers 0..cap
// factor^attempt is exponentiation by squaring with plain IEEE-754 double multiplications
// (never std::pow, whose last bit differs between C libraries). Overflow saturates to +inf,
// which the min() with max_ms absorbs, so any attempt number is safe.
// Out-of-range inputs are clamped rather than trusted: negative times count as 0, a factor
// below 1 (or NaN) as 1, and random01 outside [0, 1) (or NaN) into [0, 1).
#include "globemeet/core/backoff.hpp"

#include <cmath>

namespace globemeet::core {
namespace {

double power(double base, unsigned exponent) noexcept {
  double result = 1.0;
  while (exponent != 0) {
    if ((exponent & 1U) != 0) result *= base;
    exponent >>= 1;
    if (exponent != 0) base *= base;
  }
  return result;
}

double clamp_random01(double r) noexcept {
  if (!(r > 0.0)) return 0.0;  // also NaN
  constexpr double largest_below_one = 1.0 - 0x1p-53;
  return r < 1.0 ? r : largest_below_one;
}

std::int64_t cap_ms(const backoff_policy& policy, unsigned attempt) noexcept {
  const std::int64_t max_ms = policy.max_ms > 0 ? policy.max_ms : 0;
  if (policy.min_ms <= 0 || max_ms == 0) return 0;
  const double factor = policy.factor >= 1.0 ? policy.factor : 1.0;  // NaN fails the comparison
  const double grown = static_cast<double>(policy.min_ms) * power(factor, attempt);
  const double max_d = static_cast<double>(max_ms);
  if (grown >= max_d) return max_ms;
  return static_cast<std::int64_t>(std::floor(grown));
}

}  // namespace

std::int64_t backoff_delay(const backoff_policy& policy, unsigned attempt, double random01) noexcept {
  const std::int64_t cap = cap_ms(policy, attempt);
  const double cap_d = static_cast<double>(cap);
  const double scaled = std::floor(clamp_random01(random01) * (cap_d + 1.0));
  if (scaled >= cap_d) return cap;  // also where cap_d + 1 rounds (caps beyond 2^53)
  return static_cast<std::int64_t>(scaled);
}

}  // namespace globemeet::core
