#include <catch2/catch.hpp>

#include "globemeet/server/auth/base64.hpp"
#include "globemeet/server/auth/constant_time.hpp"

using namespace globemeet::server::auth;

TEST_CASE("base64url round-trips every length without padding", "[auth][base64]") {
  std::string bytes;
  for (int i = 0; i < 70; ++i) {
    const std::string encoded = base64url_encode(bytes);
    CHECK(encoded.find('=') == std::string::npos);
    CHECK(encoded.find('+') == std::string::npos);
    CHECK(encoded.find('/') == std::string::npos);
    const auto decoded = base64url_decode(encoded);
    REQUIRE(decoded);
    CHECK(*decoded == bytes);
    bytes.push_back(static_cast<char>(i * 37 + 250));
  }
}

TEST_CASE("base64url matches RFC 4648 test vectors", "[auth][base64]") {
  CHECK(base64url_encode("") == "");
  CHECK(base64url_encode("f") == "Zg");
  CHECK(base64url_encode("fo") == "Zm8");
  CHECK(base64url_encode("foo") == "Zm9v");
  CHECK(base64url_encode("foob") == "Zm9vYg");
  CHECK(base64url_encode("fooba") == "Zm9vYmE");
  CHECK(base64url_encode("foobar") == "Zm9vYmFy");
  CHECK(base64url_encode("\xfb\xff") == "-_8");
}

TEST_CASE("base64url decoding is strict", "[auth][base64]") {
  CHECK_FALSE(base64url_decode("Zg=="));   // padding
  CHECK_FALSE(base64url_decode("Zm9v+g")); // standard alphabet
  CHECK_FALSE(base64url_decode("Zm9v/g"));
  CHECK_FALSE(base64url_decode("Zm 9v"));  // whitespace
  CHECK_FALSE(base64url_decode("Z"));      // dangling character
  CHECK_FALSE(base64url_decode("Zh"));     // non-zero unused bits: not canonical
  CHECK_FALSE(base64url_decode("Zm9"));
  CHECK(base64url_decode("Zm8") == std::optional<std::string>("fo"));
  CHECK(base64url_decode("") == std::optional<std::string>(""));
}

TEST_CASE("standard base64 needs its padding and alphabet", "[auth][base64]") {
  CHECK(base64_decode("Zm9vYmE=") == std::optional<std::string>("fooba"));
  CHECK(base64_decode("Zg==") == std::optional<std::string>("f"));
  CHECK(base64_decode("+/8=") == std::optional<std::string>("\xfb\xff"));
  CHECK_FALSE(base64_decode("Zg"));        // padding missing
  CHECK_FALSE(base64_decode("Zg="));
  CHECK_FALSE(base64_decode("-_8="));      // url alphabet
  CHECK_FALSE(base64_decode("Zh=="));      // not canonical
  CHECK_FALSE(base64_decode("Z==="));
  CHECK_FALSE(base64_decode("Zg==Zg=="));  // padding in the middle
}

TEST_CASE("constant_time_equal compares content and length", "[auth][base64]") {
  CHECK(constant_time_equal("", ""));
  CHECK(constant_time_equal("secret", "secret"));
  CHECK_FALSE(constant_time_equal("secret", "secreT"));
  CHECK_FALSE(constant_time_equal("secret", "secret!"));
  CHECK_FALSE(constant_time_equal("", "x"));
}
