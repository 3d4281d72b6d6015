// Event ids `{epoch}-{seq}` (docs/protocol.md section 5).
#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "globemeet/core/event_id.hpp"

using globemeet::core::event_id;
using globemeet::core::max_seq;

TEST_CASE("event ids parse into epoch and seq", "[event_id]") {
  const auto id = event_id::parse("6f1c2a9e-1042");
  REQUIRE(id);
  CHECK(id->epoch == "6f1c2a9e");
  CHECK(id->seq == 1042);

  CHECK(event_id::parse("0-1") == event_id{"0", 1});
  CHECK(event_id::parse("00ff-10") == event_id{"00ff", 10});
  CHECK(event_id::parse("0123456789abcdef-42") == event_id{"0123456789abcdef", 42});
  CHECK(event_id::parse("ffffffffffffffff-9007199254740991") == event_id{"ffffffffffffffff", max_seq});
}

TEST_CASE("anything but the canonical form is refused", "[event_id]") {
  for (const std::string text : {
           "", "-", "6f1c2a9e", "1042", "x-1", "g-1", "6F1C2A9E-1042", "6f1C-1", "-1042", "6f1c2a9e-",
           "6f1c2a9e-00", "6f1c2a9e-000", "6f1c2a9e-01", "6f1c2a9e-9007199254740992", "6f1c2a9e-18446744073709551615",
           "6f1c2a9e-18446744073709551616", "6f1c2a9e-99999999999999999999999", "10000000000000000-1",
           "6f1c2a9e-+1", "6f1c2a9e--1", "6f1c2a9e-1-2", "6f1c2a9e-1 ", " 6f1c2a9e-1", "6f1c2a9e_1", "6f1c2a9e-1.0",
           "6f1c2a9e-1e3", "6f1c2a9e-0x1f", "0x6f-1", "6f1c2a9e-\xd9\xa1", "6f1c2a9e-1\n"}) {
    INFO("'" << text << "'");
    CHECK_FALSE(event_id::parse(text).has_value());
  }
  CHECK_FALSE(event_id::parse(std::string("6f-1\0", 5)).has_value());
}

TEST_CASE("a position is seq 0 to 2^53-1; an event's id is seq 1 to 2^53-1", "[event_id]") {
  CHECK(max_seq == 9'007'199'254'740'991ULL);
  CHECK(event_id::parse("a-1") == event_id{"a", 1});
  CHECK(event_id::parse("a-" + std::to_string(max_seq)) == event_id{"a", max_seq});
  CHECK_FALSE(event_id::parse("a-" + std::to_string(max_seq + 1)));

  // `{epoch}-0` is the position before the epoch's first event, and no event's id.
  const auto start = event_id::parse("a-0");
  REQUIRE(start == event_id{"a", 0});
  CHECK_FALSE(start->names_event());
  CHECK(start->str() == "a-0");
  CHECK_FALSE(event_id::parse_event("a-0"));

  CHECK(event_id::parse_event("a-1") == event_id{"a", 1});
  CHECK(event_id::parse_event("a-" + std::to_string(max_seq)) == event_id{"a", max_seq});
  for (const char* text : {"a-00", "a-01", "a-", "a--1", "x-1"}) {
    INFO(text);
    CHECK_FALSE(event_id::parse_event(text));
  }
}

TEST_CASE("epochs have 1 to 16 lowercase hex digits", "[event_id]") {
  CHECK(event_id::parse(std::string(16, 'f') + "-1"));
  CHECK_FALSE(event_id::parse(std::string(17, 'f') + "-1"));
  for (int byte = 0; byte < 256; ++byte) {
    const char c = static_cast<char>(byte);
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    INFO("byte " << byte);
    CHECK(event_id::parse(std::string("a") + c + "-1").has_value() == hex);
  }
}

TEST_CASE("str() writes the canonical form and round-trips through parse()", "[event_id]") {
  CHECK(event_id{"6f1c2a9e", 1042}.str() == "6f1c2a9e-1042");
  CHECK(event_id{"0", 1}.str() == "0-1");
  CHECK(event_id{"6f1c2a9e", 0}.str() == "6f1c2a9e-0");
  CHECK(event_id{"ffffffffffffffff", max_seq}.str() == "ffffffffffffffff-9007199254740991");
  for (const char* text : {"6f1c2a9e-1042", "0-1", "00ff-10", "a-9007199254740991", "0123456789abcdef-7", "a1-0"}) {
    const auto id = event_id::parse(text);
    REQUIRE(id);
    CHECK(id->str() == text);
  }
}

TEST_CASE("event id vectors (tests/vectors/event_ids.json) pass natively", "[event_id]") {
  std::ifstream in(std::string(GLOBEMEET_VECTORS_DIR) + "/event_ids.json", std::ios::binary);
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  const auto vectors = boost::json::parse(text.str()).as_object();
  std::size_t cases = 0;
  for (const auto& entry : vectors.at("parse").as_array()) {
    const auto& c = entry.as_object();
    const std::string input(c.at("input").as_string());
    INFO("'" << input << "'");
    const auto id = event_id::parse(input);
    REQUIRE(id.has_value() == c.at("valid").as_bool());
    if (id) {
      CHECK(id->epoch == std::string(c.at("epoch").as_string()));
      CHECK(id->seq == boost::json::value_to<std::uint64_t>(c.at("seq")));
      CHECK(id->str() == input);
    }
    ++cases;
  }
  CHECK(cases >= 15);
}
