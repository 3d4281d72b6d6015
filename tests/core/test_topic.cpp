// Topic grammar, matching and containment (docs/protocol.md section 4).
#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "globemeet/core/topic.hpp"

namespace topic = globemeet::core::topic;

namespace {

// The message of the refusal, or "" when the input is valid.
std::string name_refusal(std::string_view name) {
  const auto e = topic::validate_name(name);
  if (!e) return "";
  CHECK(e->code == "invalid_topic");
  return e->message;
}

std::string pattern_refusal(std::string_view pattern) {
  const auto e = topic::validate_pattern(pattern);
  if (!e) return "";
  CHECK(e->code == "invalid_topic");
  return e->message;
}

std::string repeat(std::size_t count, std::string_view piece, std::string_view separator = "") {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    if (i != 0) out += separator;
    out += piece;
  }
  return out;
}

boost::json::object load_vectors(const std::string& file) {
  std::ifstream in(std::string(GLOBEMEET_VECTORS_DIR) + "/" + file, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  return boost::json::parse(text.str()).as_object();
}

}  // namespace

TEST_CASE("topic names of three well-formed segments are accepted", "[topic]") {
  CHECK(name_refusal("queue.support.depth-changed").empty());
  CHECK(name_refusal("agent.a-17.status-changed").empty());
  CHECK(name_refusal("session.Queue_1.created").empty());
  CHECK(name_refusal("A.0.z").empty());
  CHECK(name_refusal("queue." + std::string(64, 'k') + ".abandoned").empty());
}

TEST_CASE("topic names are refused with a message naming the rule and the place", "[topic]") {
  CHECK(name_refusal("") == "a topic name cannot be empty");
  CHECK(name_refusal("queue..x") == "segment 2 is empty ('..' at byte 5)");
  CHECK(name_refusal(".queue.x") == "segment 1 is empty (the topic starts with '.')");
  CHECK(name_refusal("queue.x.") == "segment 3 is empty (the topic ends with '.')");
  CHECK(name_refusal("queue.support") == "a topic name has exactly 3 segments {stream}.{key}.{event} (found 2)");
  CHECK(name_refusal("a.b.c.d") == "a topic name has exactly 3 segments {stream}.{key}.{event} (found 4)");
  CHECK(name_refusal("queue.*.depth-changed") == "a topic name cannot contain wildcards (segment 2: '*')");
  CHECK(name_refusal("queue.support.>") == "a topic name cannot contain wildcards (segment 3: '>')");
  CHECK(name_refusal("queue.sup*.x") == "a topic name cannot contain wildcards (segment 2: 'sup*')");
  CHECK(name_refusal("queue/support.a.b") ==
        "character '/' at byte 5 is not allowed (segment 1; segments use A-Z a-z 0-9 _ -)");
  CHECK(name_refusal("queue.support.x" + std::string(1, '\n')) ==
        "control character 0x0a at byte 15 is not allowed (segment 3; segments use A-Z a-z 0-9 _ -)");
  CHECK(name_refusal("queue.s\xc3\xbcpport.x") ==
        "non-ASCII byte 0xc3 at byte 7 is not allowed (segment 2; segments use A-Z a-z 0-9 _ -)");
  CHECK(name_refusal("queue." + std::string(65, 'k') + ".x") == "segment 2 is longer than 64 bytes (65 bytes)");
  CHECK(name_refusal("queue." + std::string(300, 'k') + ".x") == "a topic name is longer than 255 bytes (308 bytes)");
}

TEST_CASE("the first broken rule is reported, reading left to right", "[topic]") {
  CHECK(name_refusal("a..*") == "segment 2 is empty ('..' at byte 1)");
  CHECK(name_refusal("a/.b.*").rfind("character '/' at byte 1", 0) == 0);
  // Segment errors come before the count, so a client fixes the visible typo first.
  CHECK(name_refusal("a.b/c") == "character '/' at byte 3 is not allowed (segment 2; segments use A-Z a-z 0-9 _ -)");
  CHECK(pattern_refusal("a.>.b/c") == "'>' must be the last segment (found at segment 2)");
}

TEST_CASE("patterns accept '*' as a whole segment and '>' as the last one", "[topic]") {
  for (const char* valid : {"queue.support.depth-changed", "queue.*.depth-changed", "queue.support.*", "queue.>", ">",
                            "*.*.*", "*.support.*", "agent.a-17.*", "queue.*.>", "queue.support.>", "*.>", "*.*.>"}) {
    INFO(valid);
    CHECK(pattern_refusal(valid).empty());
  }
}

TEST_CASE("patterns are refused with a message naming the rule and the place", "[topic]") {
  CHECK(pattern_refusal("") == "a topic pattern cannot be empty");
  CHECK(pattern_refusal("queue..depth") == "segment 2 is empty ('..' at byte 5)");
  CHECK(pattern_refusal(".queue") == "segment 1 is empty (the topic starts with '.')");
  CHECK(pattern_refusal("queue.") == "segment 2 is empty (the topic ends with '.')");
  CHECK(pattern_refusal(".") == "segment 1 is empty (the topic starts with '.')");
  CHECK(pattern_refusal("sup*") == "wildcard '*' must be a whole segment (segment 1: 'sup*')");
  CHECK(pattern_refusal("queue.q>") == "wildcard '>' must be a whole segment (segment 2: 'q>')");
  CHECK(pattern_refusal("queue.**") == "wildcard '*' must be a whole segment (segment 2: '**')");
  CHECK(pattern_refusal("queue.>.x") == "'>' must be the last segment (found at segment 2)");
  CHECK(pattern_refusal(">.>") == "'>' must be the last segment (found at segment 1)");
  // MQTT's wildcards are ordinary forbidden characters here, never silently literal.
  CHECK(pattern_refusal("queue.+") == "character '+' at byte 6 is not allowed (segment 2; segments use A-Z a-z 0-9 _ -)");
  CHECK(pattern_refusal("queue.#") == "character '#' at byte 6 is not allowed (segment 2; segments use A-Z a-z 0-9 _ -)");
  CHECK(pattern_refusal("queue/support").rfind("character '/' at byte 5 is not allowed", 0) == 0);
}

TEST_CASE("patterns that can never match a three-segment name are refused, naming the rule", "[topic]") {
  const std::string rule = "a topic pattern can never match a topic name: names have exactly 3 segments "
                           "{stream}.{key}.{event} ";
  CHECK(pattern_refusal("queue") == rule + "(the pattern has 1)");
  CHECK(pattern_refusal("*") == rule + "(the pattern has 1)");
  CHECK(pattern_refusal("queue.support") == rule + "(the pattern has 2)");
  CHECK(pattern_refusal("*.*") == rule + "(the pattern has 2)");
  CHECK(pattern_refusal("a.b.c.d") == rule + "(the pattern has 4)");
  CHECK(pattern_refusal("*.*.*.*") == rule + "(the pattern has 4)");
  CHECK(pattern_refusal("queue.support.depth-changed.x") == rule + "(the pattern has 4)");
  // '>' takes one or more segments: after three, no name has one more.
  CHECK(pattern_refusal("a.b.c.>") == rule + "(the pattern needs at least 4)");
  CHECK(pattern_refusal("*.*.*.>") == rule + "(the pattern needs at least 4)");
  // The grammar is checked first: a typo is reported before the shape of the whole.
  CHECK(pattern_refusal("a.b.c.d/") == "character '/' at byte 7 is not allowed (segment 4; segments use A-Z a-z 0-9 _ -)");
  CHECK(pattern_refusal("queue.>.x") == "'>' must be the last segment (found at segment 2)");
  // The grammar alone (for the perms of tokens) still takes them.
  for (const char* dead : {"queue", "queue.support", "a.b.c.d", "a.b.c.>"}) {
    INFO(dead);
    CHECK_FALSE(topic::validate_pattern_grammar(dead).has_value());
  }
  CHECK(topic::validate_pattern_grammar("queue..x")->message == "segment 2 is empty ('..' at byte 5)");
}

TEST_CASE("messages quote only printable ASCII, so they are safe in a JSON frame", "[topic]") {
  const std::string message = pattern_refusal("q\xff*");
  CHECK(message.rfind("non-ASCII byte 0xff at byte 1", 0) == 0);
  CHECK(pattern_refusal("q*\xff") == "wildcard '*' must be a whole segment (segment 1: 'q*\\xff')");
  CHECK(pattern_refusal(std::string("a.b\0c.d", 7)).rfind("control character 0x00 at byte 3", 0) == 0);
}

TEST_CASE("size limits hold exactly at their boundaries", "[topic]") {
  // The grammar's limits (255 bytes, 16 segments) come first; within them a pattern must still
  // have a name's shape, so the longest useful pattern is three 64-byte segments.
  const std::string longest = repeat(3, std::string(64, 'p'), ".");
  REQUIRE(longest.size() == 194);
  CHECK(pattern_refusal(longest).empty());
  const std::string bytes_255 = repeat(4, std::string(63, 'p'), ".");  // 4 * 63 + 3 dots
  REQUIRE(bytes_255.size() == 255);
  CHECK_THAT(pattern_refusal(bytes_255), Catch::Contains("can never match a topic name"));
  CHECK(pattern_refusal(bytes_255 + "p") == "a topic pattern is longer than 255 bytes (256 bytes)");

  CHECK_THAT(pattern_refusal(repeat(16, "s", ".")), Catch::EndsWith("(the pattern has 16)"));
  CHECK(pattern_refusal(repeat(17, "s", ".")) == "a topic pattern has more than 16 segments");
  CHECK_THAT(pattern_refusal(repeat(15, "*", ".") + ".>"), Catch::EndsWith("(the pattern needs at least 16)"));

  CHECK(pattern_refusal("a." + std::string(64, 'x') + ".*").empty());
  CHECK(pattern_refusal("a." + std::string(65, 'x') + ".*") == "segment 2 is longer than 64 bytes (65 bytes)");
}

TEST_CASE("exactly the characters A-Z a-z 0-9 _ - are allowed in a segment", "[topic]") {
  for (int byte = 0; byte < 256; ++byte) {
    const char c = static_cast<char>(byte);
    if (c == '.') continue;  // the separator: covered by the empty-segment cases
    const std::string key = std::string("k") + c + "k";
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                         c == '-';
    INFO("byte " << byte);
    CHECK(name_refusal("queue." + key + ".x").empty() == allowed);
    CHECK(pattern_refusal("queue." + key + ".*").empty() == allowed);
  }
}

TEST_CASE("matching follows the NATS convention", "[topic]") {
  SECTION("literals match only themselves, case-sensitively") {
    CHECK(topic::matches("queue.support.depth-changed", "queue.support.depth-changed"));
    CHECK_FALSE(topic::matches("queue.support.depth-changed", "queue.sales.depth-changed"));
    CHECK_FALSE(topic::matches("queue.Support.x", "queue.support.x"));
    CHECK_FALSE(topic::matches("queue.support.depth", "queue.support.depth-changed"));
    CHECK_FALSE(topic::matches("queue.support.depth-changed", "queue.support.depth"));
  }
  SECTION("'*' takes exactly one segment") {
    CHECK(topic::matches("queue.*.depth-changed", "queue.support.depth-changed"));
    CHECK_FALSE(topic::matches("queue.*.depth-changed", "queue.support.abandoned"));
    CHECK(topic::matches("queue.support.*", "queue.support.abandoned"));
    CHECK_FALSE(topic::matches("queue.support.*", "queue.support"));
    CHECK(topic::matches("*", "queue"));
    CHECK_FALSE(topic::matches("*", "queue.support"));
    CHECK_FALSE(topic::matches("*.*", "queue.support.x"));
  }
  SECTION("'>' takes one or more segments, never zero") {
    CHECK(topic::matches("queue.>", "queue.support.abandoned"));
    CHECK(topic::matches("queue.>", "queue.support"));
    CHECK_FALSE(topic::matches("queue.>", "queue"));
    CHECK_FALSE(topic::matches("queue.>", "agent.a-17.online"));
    CHECK(topic::matches(">", "agent.a-17.online"));
    CHECK(topic::matches("queue.*.>", "queue.support.abandoned"));
    CHECK_FALSE(topic::matches("queue.*.>", "queue.support"));
  }
  SECTION("lengths must agree") {
    CHECK_FALSE(topic::matches("queue.support", "queue.support.abandoned"));
    CHECK_FALSE(topic::matches("queue.support.abandoned.x", "queue.support.abandoned"));
  }
}

TEST_CASE("containment examples from permission checks", "[topic]") {
  CHECK(topic::contains("queue.>", "queue.*.x"));
  CHECK_FALSE(topic::contains("queue.*.x", "queue.>"));
  CHECK(topic::contains(">", "agent.a-17.*"));
  CHECK(topic::contains(">", ">"));
  CHECK(topic::contains("a.>", "a.*.b"));
  CHECK(topic::contains("*.support.*", "queue.support.*"));
  CHECK_FALSE(topic::contains("queue.support.x", "queue.*.x"));
  // Judged over the names that exist, which have three segments: patterns that match the same
  // names contain each other however they are written.
  CHECK(topic::contains("queue.support.*", "queue.support.>"));
  CHECK(topic::contains("*.support.*", "queue.support.>"));
  CHECK(topic::contains("*.*.*", ">"));
  CHECK(topic::contains(">", "*.*.*"));
  CHECK(topic::contains("queue.*.*", "queue.>"));
  CHECK(topic::contains("queue.>", "queue.*.*"));
  CHECK_FALSE(topic::contains("queue.support.>", "queue.>"));
  // A pattern that can match no name contains nothing and is contained by nothing.
  CHECK_FALSE(topic::contains("a.>", "a"));
  CHECK_FALSE(topic::contains(">", "a.b.c.d"));
  CHECK_FALSE(topic::contains("queue.support", "queue.support"));
  CHECK_FALSE(topic::contains("a.b.c.>", "a.b.c.>"));
}

namespace {

// Every pattern of up to four segments over {a, b, *} or ending in '>': one past a name's three.
std::vector<std::string> small_patterns() {
  std::vector<std::string> out;
  std::vector<std::string> prefixes{""};
  for (int length = 1; length <= 4; ++length) {
    std::vector<std::string> longer;
    for (const auto& prefix : prefixes) {
      const std::string lead = prefix.empty() ? "" : prefix + ".";
      out.push_back(lead + ">");
      for (const char* segment : {"a", "b", "*"}) longer.push_back(lead + segment);
    }
    out.insert(out.end(), longer.begin(), longer.end());
    prefixes = longer;
  }
  return out;
}

// Every topic name over {a, b, c}: 'c' stands for "a literal no pattern names".
std::vector<std::string> small_names() {
  std::vector<std::string> out;
  for (const char* x : {"a", "b", "c"})
    for (const char* y : {"a", "b", "c"})
      for (const char* z : {"a", "b", "c"}) out.push_back(std::string(x) + "." + y + "." + z);
  return out;
}

}  // namespace

TEST_CASE("validity and containment agree with matching over an exhaustive small universe", "[topic]") {
  const auto patterns = small_patterns();
  const auto names = small_names();
  REQUIRE(patterns.size() == 160);
  for (const auto& p : patterns) REQUIRE(topic::validate_pattern_grammar(p) == std::nullopt);

  const auto matches_some = [&](const std::string& p) {
    return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return topic::matches(p, n); });
  };
  std::size_t valid = 0;
  for (const auto& p : patterns) {
    INFO(p);
    CHECK(pattern_refusal(p).empty() == matches_some(p));  // refused exactly when it matches no name
    valid += pattern_refusal(p).empty();
  }
  CHECK(valid == 27 + 9 + 3 + 1);  // three segments, or a final '>' after at most two

  for (const auto& outer : patterns) {
    for (const auto& inner : patterns) {
      bool every_match_covered = matches_some(inner);  // a pattern matching nothing is never contained
      for (const auto& name : names) {
        if (topic::matches(inner, name) && !topic::matches(outer, name)) {
          every_match_covered = false;
          break;
        }
      }
      INFO("outer " << outer << ", inner " << inner);
      CHECK(topic::contains(outer, inner) == every_match_covered);
    }
  }
}

TEST_CASE("topic vectors (tests/vectors/topics.json) pass natively", "[topic]") {
  const auto vectors = load_vectors("topics.json");
  std::size_t cases = 0;
  for (const auto& [kind, validate] :
       {std::pair{"validate_name", &topic::validate_name}, std::pair{"validate_pattern", &topic::validate_pattern}}) {
    for (const auto& entry : vectors.at(kind).as_array()) {
      const auto& c = entry.as_object();
      const std::string input(c.at("input").as_string());
      INFO(kind << " " << input);
      const auto refusal = validate(input);
      CHECK(!refusal.has_value() == c.at("valid").as_bool());
      if (refusal && c.contains("message_contains")) {
        CHECK(refusal->code == "invalid_topic");
        CHECK_THAT(refusal->message, Catch::Contains(std::string(c.at("message_contains").as_string())));
      }
      ++cases;
    }
  }
  for (const auto& entry : vectors.at("matches").as_array()) {
    const auto& c = entry.as_object();
    const std::string pattern(c.at("pattern").as_string());
    const std::string name(c.at("name").as_string());
    INFO("matches " << pattern << " " << name);
    CHECK(topic::matches(pattern, name) == c.at("expected").as_bool());
    ++cases;
  }
  for (const auto& entry : vectors.at("contains").as_array()) {
    const auto& c = entry.as_object();
    const std::string outer(c.at("outer").as_string());
    const std::string inner(c.at("inner").as_string());
    INFO("contains " << outer << " " << inner);
    CHECK(topic::contains(outer, inner) == c.at("expected").as_bool());
    ++cases;
  }
  CHECK(cases >= 40);
}
