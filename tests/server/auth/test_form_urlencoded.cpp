#include <catch2/catch.hpp>

#include "print_error.hpp"

#include "globemeet/server/auth/form_urlencoded.hpp"

using namespace globemeet::server::auth;
using pairs = std::vector<std::pair<std::string, std::string>>;

TEST_CASE("form bodies decode percent-escapes and plus signs", "[auth][form]") {
  const auto r = parse_form("grant_type=client_credentials&scope=queue.%3E+agent.*.online&x=&y&&z=a%2Bb%20c");
  REQUIRE(r.ok());
  CHECK(r.value() == pairs{{"grant_type", "client_credentials"},
                           {"scope", "queue.> agent.*.online"},
                           {"x", ""},
                           {"y", ""},
                           {"z", "a+b c"}});
  CHECK(parse_form("").value().empty());
  CHECK(form_decode_component("%e2%82%AC") == std::optional<std::string>("\xe2\x82\xac"));
}

TEST_CASE("malformed or repeated parameters are refused", "[auth][form]") {
  CHECK(parse_form("a=%").err() ==
        globemeet::core::error{"invalid_request", "the body has a malformed percent-encoding"});
  CHECK(parse_form("a=%4").err().code == "invalid_request");
  CHECK(parse_form("a=%zz").err().code == "invalid_request");
  CHECK(parse_form("a%=1").err().code == "invalid_request");
  CHECK(parse_form("=1").err() ==
        globemeet::core::error{"invalid_request", "the body has a parameter without a name"});
  CHECK(parse_form("scope=a&scope=b").err() ==
        globemeet::core::error{"invalid_request", "parameter 'scope' appears more than once"});
  CHECK(parse_form("scope=a&sc%6Fpe=b").err().code == "invalid_request");  // same name once decoded
}
