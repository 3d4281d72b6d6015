#include <catch2/catch.hpp>

#include "print_error.hpp"
#include "strict_json.hpp"

using globemeet::server::auth::detail::parse_strict_object;

namespace {

std::string refusal(std::string_view text) {
  auto r = parse_strict_object(text, 4096);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == "bad_json");
  return r.err().message;
}

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
  CHECK(parse_strict_object(nested(64), 4096).ok());
}

TEST_CASE("strict JSON refuses what parsers disagree on", "[auth][strict_json]") {
  CHECK(refusal(R"({"a":1,"a":1})") == "duplicate member 'a'");
  CHECK(refusal(R"({"a":{"b":1,"b":2}})") == "duplicate member 'b'");
  CHECK(refusal(R"({"\u0061":1,"a":2})") == "duplicate member 'a'");  // equal once unescaped
  CHECK(refusal(R"({"a":1e999})") == "number out of range");
  CHECK(refusal(R"({"a":-1e999})") == "number out of range");
  CHECK(refusal("\xEF\xBB\xBF{}").rfind("not JSON", 0) == 0);           // byte-order mark
  CHECK(refusal(R"({"a":"\ud800"})").rfind("not JSON", 0) == 0);       // lone surrogate
  CHECK(refusal(R"({"a":"\udc00x"})").rfind("not JSON", 0) == 0);
  CHECK(refusal("{\"a\":\"\xC3\"}").rfind("not JSON", 0) == 0);         // invalid UTF-8
  CHECK(refusal(R"({"a":1} {})").rfind("not JSON", 0) == 0);           // trailing data
  CHECK(refusal(R"({"a":1,})").rfind("not JSON", 0) == 0);             // trailing comma
  CHECK(refusal(R"({"a":1 /* c */})").rfind("not JSON", 0) == 0);      // comments
  CHECK(refusal(nested(65)).rfind("not JSON", 0) == 0);
  CHECK(refusal("[]") == "not a JSON object");
  CHECK(refusal("\"s\"") == "not a JSON object");
  CHECK(refusal("") .rfind("not JSON", 0) == 0);
  CHECK(refusal(std::string(4097, ' ')) == "larger than 4096 bytes");
}
