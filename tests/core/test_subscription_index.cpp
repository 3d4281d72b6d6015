// The subscription trie: which subscribers a published topic name reaches.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "globemeet/core/subscription_index.hpp"
#include "globemeet/core/topic.hpp"

using globemeet::core::subscription_index;
using subscriber = subscription_index::subscriber;

namespace {

std::vector<subscriber> matched(const subscription_index& index, std::string_view name) {
  std::vector<subscriber> out;
  index.match(name, out);
  std::sort(out.begin(), out.end());
  return out;
}

using ids = std::vector<subscriber>;

}  // namespace

TEST_CASE("an empty index matches nothing", "[subscription_index]") {
  const subscription_index index;
  CHECK(index.empty());
  CHECK(index.pattern_count() == 0);
  CHECK(matched(index, "queue.support.depth-changed").empty());
}

TEST_CASE("literal, '*' and '>' patterns reach the right subscribers", "[subscription_index]") {
  subscription_index index;
  REQUIRE(index.add("queue.support.depth-changed", 1));
  REQUIRE(index.add("queue.*.depth-changed", 2));
  REQUIRE(index.add("queue.support.*", 3));
  REQUIRE(index.add("queue.>", 4));
  REQUIRE(index.add(">", 5));
  REQUIRE(index.add("agent.*.*", 6));
  REQUIRE(index.add("*.support.*", 7));
  CHECK(index.pattern_count() == 7);

  CHECK(matched(index, "queue.support.depth-changed") == ids{1, 2, 3, 4, 5, 7});
  CHECK(matched(index, "queue.sales.depth-changed") == ids{2, 4, 5});
  CHECK(matched(index, "queue.support.abandoned") == ids{3, 4, 5, 7});
  CHECK(matched(index, "agent.a-17.online") == ids{5, 6});
  CHECK(matched(index, "session.support.created") == ids{5, 7});
  CHECK(matched(index, "session.sales.created") == ids{5});
}

TEST_CASE("'>' needs at least one segment after its parent", "[subscription_index]") {
  subscription_index index;
  REQUIRE(index.add("queue.>", 1));
  REQUIRE(index.add("queue.support.>", 2));
  CHECK(matched(index, "queue").empty());
  CHECK(matched(index, "queue.support") == ids{1});
  CHECK(matched(index, "queue.support.abandoned") == ids{1, 2});
}

TEST_CASE("a subscriber whose patterns overlap is delivered once", "[subscription_index]") {
  subscription_index index;
  for (const char* pattern : {">", "queue.>", "queue.*.*", "queue.support.*", "*.support.depth-changed",
                              "queue.support.depth-changed", "*.*.*", "queue.*.>"}) {
    REQUIRE(index.add(pattern, 42));
  }
  REQUIRE(index.add("queue.support.depth-changed", 7));

  std::vector<subscriber> out{99};  // match() appends; what was there stays
  index.match("queue.support.depth-changed", out);
  std::sort(out.begin(), out.end());
  CHECK(out == ids{7, 42, 99});

  // The de-duplication is per call: the next match() reports the subscriber again.
  CHECK(matched(index, "queue.support.depth-changed") == ids{7, 42});
  CHECK(matched(index, "queue.sales.abandoned") == ids{42});
}

TEST_CASE("adding twice is a no-op and invalid patterns are never stored", "[subscription_index]") {
  subscription_index index;
  CHECK(index.add("queue.*.x", 1));
  CHECK_FALSE(index.add("queue.*.x", 1));
  CHECK(index.add("queue.*.x", 2));
  CHECK(index.pattern_count() == 2);

  // Patterns that can never match a name are invalid too: stored, they would only cost memory.
  for (const char* invalid : {"", "queue..x", "queue.>.x", "sup*", "queue.#", ".queue", "queue.", "queue.support", "*",
                              "a.b.c.d", "a.b.c.>"}) {
    INFO(invalid);
    CHECK_FALSE(index.add(invalid, 3));
    CHECK_FALSE(index.remove(invalid, 3));
  }
  CHECK(index.pattern_count() == 2);
}

TEST_CASE("remove() takes away exactly one (pattern, subscriber) pair", "[subscription_index]") {
  subscription_index index;
  REQUIRE(index.add("queue.support.*", 1));
  REQUIRE(index.add("queue.>", 1));
  REQUIRE(index.add("queue.support.*", 2));

  CHECK_FALSE(index.remove("queue.support.*", 3));    // unknown subscriber
  CHECK_FALSE(index.remove("queue.sales.*", 1));      // unknown pattern
  CHECK_FALSE(index.remove("queue.support.>", 1));    // a prefix path exists, the pattern does not
  CHECK_FALSE(index.remove("queue", 1));              // an inner node, no pattern ends there
  CHECK(index.pattern_count() == 3);

  CHECK(index.remove("queue.support.*", 1));
  CHECK_FALSE(index.remove("queue.support.*", 1));
  CHECK(matched(index, "queue.support.x") == ids{1, 2});  // 1 still holds queue.>
  CHECK(index.remove("queue.>", 1));
  CHECK(matched(index, "queue.support.x") == ids{2});
  CHECK(index.remove("queue.support.*", 2));
  CHECK(index.empty());
  CHECK(matched(index, "queue.support.x").empty());
}

TEST_CASE("an index emptied by remove() works like a new one", "[subscription_index]") {
  subscription_index index;
  const std::vector<std::string> patterns{"a.b.c", "a.*.c", "a.>", ">", "*.b.*", "a.b.*", "x.y.z"};
  for (int round = 0; round < 3; ++round) {
    for (subscriber who = 1; who <= 50; ++who) {
      for (const auto& p : patterns) REQUIRE(index.add(p, who));
    }
    CHECK(index.pattern_count() == patterns.size() * 50);
    CHECK(matched(index, "a.b.c").size() == 50);
    for (subscriber who = 1; who <= 50; ++who) {
      for (const auto& p : patterns) REQUIRE(index.remove(p, who));
    }
    CHECK(index.empty());
    CHECK(matched(index, "a.b.c").empty());
    CHECK(matched(index, "x.y.z").empty());
  }
}

TEST_CASE("many non-matching subscriptions do not leak into a match", "[subscription_index]") {
  subscription_index index;
  for (subscriber who = 0; who < 10'000; ++who) {
    REQUIRE(index.add("queue.q" + std::to_string(who) + ".depth-changed", who));
    REQUIRE(index.add("agent.a" + std::to_string(who) + ".*", who));
  }
  REQUIRE(index.add("queue.q77.>", 100'000));
  CHECK(matched(index, "queue.q77.depth-changed") == ids{77, 100'000});
  CHECK(matched(index, "agent.a9999.busy") == ids{9'999});
  CHECK(matched(index, "queue.q10000.depth-changed").empty());
  CHECK(matched(index, "session.q1.created").empty());
}

TEST_CASE("thousands of subscribers on one pattern are each delivered once", "[subscription_index]") {
  subscription_index index;
  for (subscriber who = 10'000; who > 0; --who) {
    REQUIRE(index.add(">", who));
    REQUIRE(index.add("queue.*.*", who));
  }
  const auto out = matched(index, "queue.support.abandoned");
  REQUIRE(out.size() == 10'000);
  CHECK(std::adjacent_find(out.begin(), out.end()) == out.end());
  CHECK(out.front() == 1);
  CHECK(out.back() == 10'000);
}

TEST_CASE("names that are not valid topic names are matched safely", "[subscription_index]") {
  subscription_index index;
  REQUIRE(index.add("a.>", 1));
  REQUIRE(index.add("*.*.*", 2));
  CHECK(matched(index, "").empty());
  CHECK(matched(index, "a").empty());
  CHECK(matched(index, "a.") == ids{1});  // an empty last segment is still a segment
  CHECK(matched(index, "..") == ids{2});
  const std::string long_name = "a" + std::string(100'000, '.');
  CHECK(matched(index, long_name) == ids{1});
}

TEST_CASE("a moved index keeps its subscriptions and the source is left empty", "[subscription_index]") {
  subscription_index index;
  REQUIRE(index.add("queue.>", 1));
  subscription_index moved(std::move(index));
  CHECK(moved.pattern_count() == 1);
  CHECK(matched(moved, "queue.a.b") == ids{1});
  CHECK(index.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is specified here
  CHECK(matched(index, "queue.a.b").empty());
  CHECK(index.add("queue.>", 2));  // and usable again
  CHECK(matched(index, "queue.a.b") == ids{2});

  subscription_index assigned;
  REQUIRE(assigned.add(">", 9));
  assigned = std::move(moved);
  CHECK(matched(assigned, "queue.a.b") == ids{1});
}

namespace {

// Patterns and names from a small alphabet, so random ones collide and overlap often.
std::string random_pattern(std::mt19937& rng) {
  static const char* const segments[] = {"a", "b", "c", "*"};
  std::uniform_int_distribution<int> length(1, 4);
  std::uniform_int_distribution<int> pick(0, 3);
  std::uniform_int_distribution<int> coin(0, 4);
  const int n = length(rng);
  std::string out;
  for (int i = 0; i < n; ++i) {
    if (i != 0) out += '.';
    out += (i == n - 1 && coin(rng) == 0) ? ">" : segments[pick(rng)];
  }
  return out;
}

std::string random_name(std::mt19937& rng) {
  static const char* const segments[] = {"a", "b", "c", "d"};
  std::uniform_int_distribution<int> length(1, 5);
  std::uniform_int_distribution<int> pick(0, 3);
  const int n = length(rng);
  std::string out;
  for (int i = 0; i < n; ++i) {
    if (i != 0) out += '.';
    out += segments[pick(rng)];
  }
  return out;
}

}  // namespace

TEST_CASE("random adds, removes and matches agree with a brute-force matcher", "[subscription_index]") {
  std::mt19937 rng(20261127);  // fixed seed: a failure reproduces
  std::uniform_int_distribution<subscriber> pick_subscriber(1, 40);
  std::uniform_int_distribution<int> pick_operation(0, 9);

  subscription_index index;
  std::set<std::pair<std::string, subscriber>> model;

  for (int step = 0; step < 20'000; ++step) {
    const int operation = pick_operation(rng);
    if (operation < 4) {
      const auto pattern = random_pattern(rng);
      const auto who = pick_subscriber(rng);
      if (globemeet::core::topic::validate_pattern(pattern)) {
        CHECK_FALSE(index.add(pattern, who));  // it can match no three-segment name: never stored
      } else {
        const bool added = index.add(pattern, who);
        CHECK(added == model.emplace(pattern, who).second);
      }
    } else if (operation < 7) {
      // Remove a held pair most of the time, a random (likely absent) one otherwise.
      std::pair<std::string, subscriber> victim{random_pattern(rng), pick_subscriber(rng)};
      if (!model.empty() && operation < 6) {
        auto it = model.begin();
        std::advance(it, std::uniform_int_distribution<std::size_t>(0, model.size() - 1)(rng));
        victim = *it;
      }
      CHECK(index.remove(victim.first, victim.second) == (model.erase(victim) == 1));
    } else {
      const auto name = random_name(rng);
      std::set<subscriber> expected;
      for (const auto& [pattern, who] : model) {
        if (globemeet::core::topic::matches(pattern, name)) expected.insert(who);
      }
      std::vector<subscriber> out;
      index.match(name, out);
      INFO("step " << step << ", name " << name);
      CHECK(out.size() == expected.size());  // no subscriber twice
      CHECK(std::set<subscriber>(out.begin(), out.end()) == expected);
    }
    REQUIRE(index.pattern_count() == model.size());
  }
}
