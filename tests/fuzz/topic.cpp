// Topic names and patterns (core topic) and the subscription index, against naive models
// written here from docs/protocol.md section 4. The input is lines of text: each is validated
// as a name and as a pattern; a line "+<d><pattern>" adds the pattern for subscriber d, "-<d>..."
// removes it, "?<name>" asks the index. Checks: validation accepts exactly what the grammar
// allows (a pattern must also be able to match a three-segment name); matches() agrees with a
// naive matcher for every valid (pattern, name) pair, including names built from each pattern;
// contains() agrees exactly with a naive containment over three-segment names; the index returns
// exactly the subscribers the naive model says, once each.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "check.hpp"
#include "globemeet/core/subscription_index.hpp"
#include "globemeet/core/topic.hpp"

namespace topic = globemeet::core::topic;

namespace {

std::vector<std::string_view> split(std::string_view text, char by) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto at = text.find(by);
    out.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return out;
    text.remove_prefix(at + 1);
  }
}

bool plain_segment(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

bool naive_valid_name(std::string_view text) {
  if (text.empty() || text.size() > 255) return false;
  const auto segments = split(text, '.');
  return segments.size() == 3 && std::all_of(segments.begin(), segments.end(), plain_segment);
}

bool naive_valid_pattern(std::string_view text) {
  if (text.empty() || text.size() > 255) return false;
  const auto segments = split(text, '.');
  if (segments.size() > 16) return false;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto s = segments[i];
    if (s == "*" || (s == ">" && i + 1 == segments.size())) continue;
    if (!plain_segment(s)) return false;
  }
  // It must be able to match a name: three segments, or at most three ending in '>'.
  return segments.back() == ">" ? segments.size() <= 3 : segments.size() == 3;
}

bool naive_match(const std::vector<std::string_view>& p, std::size_t i, const std::vector<std::string_view>& n,
                 std::size_t j) {
  if (i == p.size()) return j == n.size();
  if (p[i] == ">") return j < n.size();
  if (j == n.size()) return false;
  return (p[i] == "*" || p[i] == n[j]) && naive_match(p, i + 1, n, j + 1);
}

bool naive_match(std::string_view pattern, std::string_view name) {
  return naive_match(split(pattern, '.'), 0, split(name, '.'), 0);
}

// Names the pattern must match: each wildcard replaced by a literal ('>' by one, two and three).
std::vector<std::string> instances(std::string_view pattern) {
  std::vector<std::string> out{""};
  for (const auto s : split(pattern, '.')) {
    std::vector<std::string> next;
    for (const auto& prefix : out) {
      const std::string sep = prefix.empty() ? "" : ".";
      if (s == "*") {
        next.push_back(prefix + sep + "x");
      } else if (s == ">") {
        next.push_back(prefix + sep + "x");
        next.push_back(prefix + sep + "x.y");
        next.push_back(prefix + sep + "x.y.z");
      } else {
        next.push_back(prefix + sep + std::string(s));
      }
    }
    out = std::move(next);
  }
  return out;
}

// Containment decided by brute force: `inner` is contained when it matches some name and every
// name it matches `outer` matches too. Over three-segment names built from the literals either
// pattern names at each position plus one literal neither names, every name is covered: any
// other name behaves exactly like the one built with the fresh literal.
bool naive_contains(std::string_view outer, std::string_view inner) {
  std::vector<std::string> candidates[3];
  for (const auto pattern : {outer, inner}) {
    const auto segments = split(pattern, '.');
    for (std::size_t i = 0; i < segments.size() && i < 3; ++i) {
      if (segments[i] != "*" && segments[i] != ">") candidates[i].emplace_back(segments[i]);
    }
  }
  for (auto& c : candidates) c.emplace_back("fresh-literal-no-pattern-names-longer-than-any-64-byte-segment-of-a-pattern");
  bool inner_matches_some = false;
  for (const auto& a : candidates[0]) {
    for (const auto& b : candidates[1]) {
      for (const auto& c : candidates[2]) {
        const std::string name = a + "." + b + "." + c;
        if (!naive_match(inner, name)) continue;
        inner_matches_some = true;
        if (!naive_match(outer, name)) return false;
      }
    }
  }
  return inner_matches_some;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;  // the models are quadratic
  const auto lines = split(std::string_view(reinterpret_cast<const char*>(data), size), '\n');

  std::vector<std::string> patterns;
  std::vector<std::string> names;
  for (const auto line : lines) {
    const bool name_ok = !topic::validate_name(line).has_value();
    const bool pattern_ok = !topic::validate_pattern(line).has_value();
    FUZZ_CHECK(name_ok == naive_valid_name(line));
    FUZZ_CHECK(pattern_ok == naive_valid_pattern(line));
    if (name_ok) names.emplace_back(line);
    if (pattern_ok) {
      patterns.emplace_back(line);
      bool matches_a_name = false;
      for (auto& n : instances(line)) {
        FUZZ_CHECK(topic::matches(line, n));
        if (!topic::validate_name(n)) {
          matches_a_name = true;
          names.push_back(std::move(n));
        }
      }
      FUZZ_CHECK(matches_a_name);  // never accepted and then never matched
    }
  }

  // The brute-force containment costs up to 27 naive matches a pair: the first 64 patterns.
  constexpr std::size_t naive_contains_patterns = 64;
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    const auto& p = patterns[i];
    for (const auto& n : names) FUZZ_CHECK(topic::matches(p, n) == naive_match(p, n));
    FUZZ_CHECK(topic::contains(p, p));
    for (std::size_t j = 0; j < patterns.size(); ++j) {
      const auto& inner = patterns[j];
      if (i < naive_contains_patterns && j < naive_contains_patterns)
        FUZZ_CHECK(topic::contains(p, inner) == naive_contains(p, inner));
      if (!topic::contains(p, inner)) continue;
      for (const auto& n : names) FUZZ_CHECK(!topic::matches(inner, n) || topic::matches(p, n));
    }
  }

  // The index against a set of (pattern, subscriber) pairs.
  globemeet::core::subscription_index index;
  std::set<std::pair<std::string, std::uint64_t>> model;
  std::vector<std::uint64_t> found;
  for (const auto line : lines) {
    if (line.size() >= 2 && (line[0] == '+' || line[0] == '-')) {
      const std::uint64_t who = static_cast<std::uint8_t>(line[1]) % 4;
      const std::string pattern(line.substr(2));
      if (topic::validate_pattern(pattern)) continue;
      if (line[0] == '+') {
        FUZZ_CHECK(index.add(pattern, who) == model.emplace(pattern, who).second);
      } else {
        FUZZ_CHECK(index.remove(pattern, who) == (model.erase({pattern, who}) == 1));
      }
      FUZZ_CHECK(index.pattern_count() == model.size());
    } else if (!line.empty() && line[0] == '?') {
      names.emplace_back(line.substr(1));
    }
  }
  for (const auto& n : names) {
    if (topic::validate_name(n)) continue;
    found.clear();
    index.match(n, found);
    std::set<std::uint64_t> expected;
    for (const auto& [p, who] : model) {
      if (naive_match(p, n)) expected.insert(who);
    }
    const std::set<std::uint64_t> got(found.begin(), found.end());
    FUZZ_CHECK(got.size() == found.size());  // each subscriber once
    FUZZ_CHECK(got == expected);
  }
  return 0;
}
