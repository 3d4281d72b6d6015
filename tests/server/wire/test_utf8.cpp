// UTF-8 cases in the spirit of the Autobahn test suite's section 6 (and Markus Kuhn's
// decoder stress test): boundaries, overlongs, surrogates, truncated and impossible sequences.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "globemeet/server/wire/utf8.hpp"

namespace wire = globemeet::server::wire;

namespace {

const std::vector<std::string> valid_cases = {
    "",
    "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!",
    "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5",          // κόσμε
    std::string("\x00", 1),                                 // U+0000
    "\x7f",                                                 // U+007F
    "\xc2\x80", "\xdf\xbf",                                 // U+0080, U+07FF
    "\xe0\xa0\x80", "\xef\xbf\xbf",                         // U+0800, U+FFFF
    "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",                 // U+10000, U+10FFFF
    "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbd",         // around the surrogates, U+FFFD
    "\xef\xbf\xbe", "\xf3\xbf\xbf\xbf",                     // noncharacters are valid UTF-8
    "0123456789abcdef\xe2\x82\xac" "0123456789abcdef",      // ASCII runs around a character
};

const std::vector<std::string> invalid_cases = {
    "\x80", "\xbf", "\x80\xbf", "a\x80", "0123456789abcdef\x80",  // lone continuation bytes
    "\xc0\x20", "\xe0\x20", "\xf0\x20", "\xc2", "\xe2\x82", "\xf0\x9f\x98",  // incomplete sequences
    "\xc2\xc2\x80", "\xe2\x82\x20",                         // sequence interrupted
    "\xfe", "\xff", "\xfe\xfe\xff\xff",                     // impossible bytes
    "\xf5\x80\x80\x80", "\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80",  // beyond U+10FFFF
    "\xf4\x90\x80\x80",                                     // U+110000
    "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xe0\x9f\xbf", "\xf0\x80\x80\xaf", "\xf0\x8f\xbf\xbf",  // overlong
    "\xc0\x80", "\xe0\x80\x80", "\xf0\x80\x80\x80",         // overlong NUL
    "\xed\xa0\x80", "\xed\xad\xbf", "\xed\xb0\x80", "\xed\xbf\xbf",  // single surrogates
    "\xed\xa0\x80\xed\xb0\x80", "\xed\xaf\xbf\xed\xbf\xbf",  // surrogate pairs
    "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80" "edited",  // Autobahn 6.3.1
};

}  // namespace

TEST_CASE("valid UTF-8 is accepted", "[utf8]") {
  for (const auto& text : valid_cases) {
    INFO("case of " << text.size() << " bytes");
    CHECK(wire::is_valid_utf8(text));
  }
}

TEST_CASE("invalid UTF-8 is rejected", "[utf8]") {
  for (const auto& text : invalid_cases) {
    INFO("case of " << text.size() << " bytes");
    CHECK_FALSE(wire::is_valid_utf8(text));
  }
}

TEST_CASE("the validator gives the same answer when fed in parts", "[utf8]") {
  std::vector<std::string> all = valid_cases;
  all.insert(all.end(), invalid_cases.begin(), invalid_cases.end());
  for (const auto& text : all) {
    const bool expected = wire::is_valid_utf8(text);
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
      wire::utf8_validator validator;
      validator.feed(std::string_view(text).substr(0, cut));
      validator.feed(std::string_view(text).substr(cut));
      INFO("case of " << text.size() << " bytes cut at " << cut);
      CHECK((validator.complete() && !validator.failed()) == expected);
    }
  }
}

TEST_CASE("the validator fails fast and stays failed", "[utf8]") {
  wire::utf8_validator validator;
  CHECK(validator.feed("ok \xed"));
  CHECK_FALSE(validator.complete());
  CHECK_FALSE(validator.feed("\xa0"));  // a surrogate is known bad at its second byte
  CHECK(validator.failed());
  CHECK_FALSE(validator.feed("plain ascii"));
  validator.reset();
  CHECK(validator.feed("plain ascii"));
  CHECK(validator.complete());
}

TEST_CASE("a bad byte is found at every position around the ASCII fast path", "[utf8]") {
  for (std::size_t position = 0; position < 40; ++position) {
    std::string text(40, 'a');
    text[position] = '\xff';
    INFO("bad byte at " << position);
    CHECK_FALSE(wire::is_valid_utf8(text));
    text[position] = 'b';
    text.insert(position, "\xc3\xa9");
    CHECK(wire::is_valid_utf8(text));
  }
}

TEST_CASE("truncate_utf8 cuts at a character boundary", "[utf8]") {
  CHECK(wire::truncate_utf8("short", 10) == "short");
  CHECK(wire::truncate_utf8("exactly", 7) == "exactly");
  CHECK(wire::truncate_utf8("abcdef", 3) == "abc");
  CHECK(wire::truncate_utf8("ab\xc3\xa9", 3) == "ab");
  CHECK(wire::truncate_utf8("ab\xc3\xa9", 4) == "ab\xc3\xa9");
  CHECK(wire::truncate_utf8("a\xe2\x9c\x93z", 2) == "a");
  CHECK(wire::truncate_utf8("a\xe2\x9c\x93z", 3) == "a");
  CHECK(wire::truncate_utf8("a\xe2\x9c\x93z", 4) == "a\xe2\x9c\x93");
  CHECK(wire::truncate_utf8("\xf0\x9f\x98\x80", 3).empty());
  CHECK(wire::truncate_utf8("abc", 0).empty());
}
