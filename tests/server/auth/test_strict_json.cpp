// The auth library reads JOSE headers, JWT payloads, JWKS and client files through
// core::codec::check_strict_json; these pin that every rule of docs/protocol.md section 2 holds
// on that path too (the exact wording belongs to the codec).
#include <catch2/catch.hpp>

#include "print_error.hpp"
#include "strict_json.hpp"

using globemeet::server::auth::detail::parse_strict_object;

namespace {

std::string refusal(std::string_view text) {
  auto r = parse_strict_object(text, 4096);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == "bad_json");
  CHECK_FALSE(r.err().message.empty());
  return r.err().message;
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

std::string nested(int depth) {
  std::string text;
  for (int i = 0; i < depth - 1; ++i) text += R"({"a":)";
  text += "{}";
  for (int i = 0; i < depth - 1; ++i) text += "}";
  return text;
}

}  // namespace

TEST_CASE("strict JSON accepts one plain object", "[auth][strict_json]") {
  auto r = parse_strict_object(R"( {"a":[1,2,{"b":"\u00e9\ud83d\ude00"}],"c":{"a":1}} )", 4096);
  REQUIRE(r.ok());
  CHECK(r->size() == 2);
  CHECK(r->at("a").as_array()[2].as_object().at("b") == "\xC3\xA9\xF0\x9F\x98\x80");
  CHECK(parse_strict_object(nested(64), 4096).ok());
}

TEST_CASE("strict JSON refuses what parsers disagree on", "[auth][strict_json]") {
  CHECK(contains(refusal(R"({"a":1,"a":1})"), "duplicate member name 'a'"));
  CHECK(contains(refusal(R"({"a":{"b":1,"b":2}})"), "duplicate member name 'b'"));
  CHECK(contains(refusal(R"({"\u0061":1,"a":2})"), "duplicate member name 'a'"));  // equal once unescaped
  CHECK(contains(refusal(R"({"a":1e999})"), "number out of range"));
  CHECK(contains(refusal(R"({"a":-1e999})"), "number out of range"));
  CHECK(contains(refusal("\xEF\xBB\xBF{}"), "byte order mark"));
  CHECK(contains(refusal(R"({"a":"\ud800"})"), "surrogate"));
  CHECK(contains(refusal(R"({"a":"\udc00x"})"), "surrogate"));
  CHECK(contains(refusal("{\"a\":\"\xC3\"}"), "UTF-8"));
  refusal(R"({"a":1} {})");            // trailing data
  refusal(R"({"a":1,})");              // trailing comma
  refusal(R"({"a":1 /* c */})");       // comments
  refusal(nested(65));
  refusal("");
  CHECK(contains(refusal("[]"), "object"));
  CHECK(contains(refusal("\"s\""), "object"));
  CHECK(contains(refusal(std::string(4097, ' ')), "4096"));
}

// Found by tests/fuzz/strict_json.cpp: a second parse after the strict check read these as NaN
// and infinity, while the strict reader (and every client) reads 0 and the largest double.
TEST_CASE("strict JSON reads numbers as the strict reader does", "[auth][strict_json]") {
  auto zero = parse_strict_object(R"({"a":0e309,"b":-0e400})", 4096);
  REQUIRE(zero.ok());
  CHECK(zero->at("a").to_number<double>() == 0.0);
  CHECK(zero->at("b").to_number<double>() == 0.0);
  auto largest = parse_strict_object(R"({"a":1.7976931348623158e308})", 4096);
  REQUIRE(largest.ok());
  CHECK(largest->at("a").to_number<double>() == 1.7976931348623157e308);
}
