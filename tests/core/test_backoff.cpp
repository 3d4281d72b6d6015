// Reconnect backoff with full jitter (docs/protocol.md section 9).
#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "globemeet/core/backoff.hpp"

using globemeet::core::backoff_delay;
using globemeet::core::backoff_policy;

namespace {

constexpr double just_below_one = 0.999999;

}  // namespace

TEST_CASE("the defaults are 500 ms doubling up to 30 s", "[backoff]") {
  const backoff_policy defaults;
  CHECK(defaults.min_ms == 500);
  CHECK(defaults.max_ms == 30'000);
  CHECK(defaults.factor == 2.0);
}

TEST_CASE("the cap grows by the factor per attempt until max_ms", "[backoff]") {
  const backoff_policy policy;
  // With random just below 1 the delay is the cap itself: delay = floor(r * (cap + 1)).
  CHECK(backoff_delay(policy, 0, just_below_one) == 500);
  CHECK(backoff_delay(policy, 1, just_below_one) == 1'000);
  CHECK(backoff_delay(policy, 2, just_below_one) == 2'000);
  CHECK(backoff_delay(policy, 5, just_below_one) == 16'000);
  CHECK(backoff_delay(policy, 6, just_below_one) == 30'000);
  CHECK(backoff_delay(policy, 7, just_below_one) == 30'000);
}

TEST_CASE("the delay is uniform over the integers 0..cap, chosen by the random input", "[backoff]") {
  const backoff_policy policy;
  CHECK(backoff_delay(policy, 0, 0.0) == 0);
  CHECK(backoff_delay(policy, 0, 0.5) == 250);        // floor(0.5 * 501)
  CHECK(backoff_delay(policy, 3, 0.5) == 2'000);      // floor(0.5 * 4001)
  CHECK(backoff_delay(policy, 6, 0.25) == 7'500);     // floor(0.25 * 30001)
  // Each of the cap + 1 values takes an equal share of [0, 1): value k from k/(cap+1) on.
  CHECK(backoff_delay(policy, 0, 0.999 / 501.0) == 0);
  CHECK(backoff_delay(policy, 0, 1.001 / 501.0) == 1);
  CHECK(backoff_delay(policy, 0, 499.999 / 501.0) == 499);
  CHECK(backoff_delay(policy, 0, 500.001 / 501.0) == 500);
}

TEST_CASE("the delay stays in [0, cap] and never decreases with the random input", "[backoff]") {
  const backoff_policy policy;
  for (unsigned attempt : {0U, 1U, 2U, 3U, 5U, 6U, 10U, 63U, 64U, 1'000U, 4'294'967'295U}) {
    const double exact_cap = 500.0 * std::pow(2.0, std::min(attempt, 10U));
    const auto cap = static_cast<std::int64_t>(std::min(30'000.0, exact_cap));
    std::int64_t previous = 0;
    for (int step = 0; step <= 1000; ++step) {
      const double r = step / 1000.0 * just_below_one;
      const auto delay = backoff_delay(policy, attempt, r);
      INFO("attempt " << attempt << ", random " << r);
      CHECK(delay >= previous);
      CHECK(delay <= cap);
      previous = delay;
    }
    CHECK(previous == cap);
  }
}

TEST_CASE("huge attempt numbers saturate at max_ms without overflow", "[backoff]") {
  const backoff_policy policy;
  CHECK(backoff_delay(policy, 1'000, 0.5) == 15'000);
  CHECK(backoff_delay(policy, 4'294'967'295U, just_below_one) == 30'000);
  const backoff_policy huge{1, std::numeric_limits<std::int64_t>::max(), 10.0};
  CHECK(backoff_delay(huge, 4'294'967'295U, just_below_one) > 0);
  CHECK(backoff_delay(huge, 4'294'967'295U, just_below_one) <= std::numeric_limits<std::int64_t>::max());
  const backoff_policy infinite_factor{500, 30'000, std::numeric_limits<double>::infinity()};
  CHECK(backoff_delay(infinite_factor, 0, just_below_one) == 500);
  CHECK(backoff_delay(infinite_factor, 1, just_below_one) == 30'000);
}

TEST_CASE("out-of-range inputs are clamped instead of trusted", "[backoff]") {
  const backoff_policy policy;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  SECTION("random outside [0, 1)") {
    CHECK(backoff_delay(policy, 2, 1.0) == 2'000);
    CHECK(backoff_delay(policy, 2, 7.5) == 2'000);
    CHECK(backoff_delay(policy, 2, std::numeric_limits<double>::infinity()) == 2'000);
    CHECK(backoff_delay(policy, 2, -0.5) == 0);
    CHECK(backoff_delay(policy, 2, nan) == 0);
  }
  SECTION("a factor below 1 or NaN counts as 1") {
    CHECK(backoff_delay({1'000, 60'000, 0.5}, 10, just_below_one) == 1'000);
    CHECK(backoff_delay({1'000, 60'000, nan}, 10, just_below_one) == 1'000);
    CHECK(backoff_delay({1'000, 60'000, -3.0}, 10, just_below_one) == 1'000);
  }
  SECTION("negative or zero times") {
    CHECK(backoff_delay({0, 30'000, 2.0}, 10, 0.9) == 0);
    CHECK(backoff_delay({-500, 30'000, 2.0}, 10, 0.9) == 0);
    CHECK(backoff_delay({500, -1, 2.0}, 10, 0.9) == 0);
  }
  SECTION("max below min: max wins") { CHECK(backoff_delay({5'000, 1'000, 2.0}, 0, just_below_one) == 1'000); }
}

TEST_CASE("a fractional factor rounds the cap down", "[backoff]") {
  const backoff_policy policy{100, 10'000, 1.5};
  CHECK(backoff_delay(policy, 3, just_below_one) == 337);  // floor(100 * 3.375)
  CHECK(backoff_delay(policy, 3, 0.5) == 169);             // floor(0.5 * 338)
}

TEST_CASE("backoff vectors (tests/vectors/backoff.json) pass natively", "[backoff]") {
  std::ifstream in(std::string(GLOBEMEET_VECTORS_DIR) + "/backoff.json", std::ios::binary);
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  const auto vectors = boost::json::parse(text.str()).as_object();
  std::size_t cases = 0;
  for (const auto& entry : vectors.at("delay").as_array()) {
    const auto& c = entry.as_object();
    const auto& p = c.at("policy").as_object();
    const backoff_policy policy{boost::json::value_to<std::int64_t>(p.at("min_ms")),
                                boost::json::value_to<std::int64_t>(p.at("max_ms")), p.at("factor").to_number<double>()};
    const auto attempt = boost::json::value_to<unsigned>(c.at("attempt"));
    const double random = c.at("random").to_number<double>();
    INFO(boost::json::serialize(c));
    CHECK(backoff_delay(policy, attempt, random) == boost::json::value_to<std::int64_t>(c.at("expected_ms")));
    ++cases;
  }
  CHECK(cases >= 10);
}
