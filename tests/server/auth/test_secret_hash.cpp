#include <catch2/catch.hpp>

#include "globemeet/server/auth/base64.hpp"
#include "globemeet/server/auth/secret_hash.hpp"

using namespace globemeet::server::auth;

TEST_CASE("a hashed secret verifies and nothing else does", "[auth][secret_hash]") {
  const auto hash = hash_secret("correct horse battery staple", 1000);
  REQUIRE(hash.ok());
  CHECK(hash->rfind("pbkdf2-sha256$1000$", 0) == 0);
  CHECK_FALSE(check_secret_hash(hash.value()));
  CHECK(secret_hash_iterations(hash.value()) == std::optional<std::uint32_t>(1000));
  CHECK(verify_secret("correct horse battery staple", hash.value()));
  CHECK_FALSE(verify_secret("correct horse battery stapl", hash.value()));
  CHECK_FALSE(verify_secret("", hash.value()));
  // A fresh salt every time.
  CHECK(hash_secret("correct horse battery staple", 1000).value() != hash.value());
}

TEST_CASE("the format is self-describing and checked field by field", "[auth][secret_hash]") {
  const std::string salt = base64url_encode("0123456789abcdef");
  const std::string digest = base64url_encode(std::string(32, 'x'));
  CHECK_FALSE(check_secret_hash("pbkdf2-sha256$1000$" + salt + "$" + digest));
  const auto rule = [](const std::string& encoded) {
    const auto e = check_secret_hash(encoded);
    REQUIRE(e);
    CHECK(e->code == "invalid_hash");
    CHECK_FALSE(verify_secret("anything", encoded));
    return e->message;
  };
  CHECK(rule("") == "expected pbkdf2-sha256$<iterations>$<salt>$<hash>");
  CHECK(rule("bcrypt$1000$" + salt + "$" + digest) == "expected pbkdf2-sha256$<iterations>$<salt>$<hash>");
  CHECK(rule("pbkdf2-sha256$1000$" + salt) == "expected pbkdf2-sha256$<iterations>$<salt>$<hash>");
  CHECK(rule("pbkdf2-sha256$1000$" + salt + "$" + digest + "$x") ==
        "expected pbkdf2-sha256$<iterations>$<salt>$<hash>");
  CHECK(rule("pbkdf2-sha256$x$" + salt + "$" + digest) == "iterations is not a decimal number");
  CHECK(rule("pbkdf2-sha256$01000$" + salt + "$" + digest) == "iterations is not a decimal number");
  CHECK(rule("pbkdf2-sha256$$" + salt + "$" + digest) == "iterations is not a decimal number");
  CHECK(rule("pbkdf2-sha256$999$" + salt + "$" + digest) == "iterations must be between 1000 and 10000000");
  CHECK(rule("pbkdf2-sha256$99999999999$" + salt + "$" + digest) == "iterations is not a decimal number");
  CHECK(rule("pbkdf2-sha256$1000$" + base64url_encode("short") + "$" + digest) ==
        "salt must be base64url of at least 8 bytes");
  CHECK(rule("pbkdf2-sha256$1000$" + salt + "$" + base64url_encode("short")) ==
        "hash must be base64url of 32 bytes");
  CHECK(rule("pbkdf2-sha256$1000$" + salt + "$" + digest + "==") == "hash must be base64url of 32 bytes");
}

TEST_CASE("hash_secret refuses what it cannot hash well", "[auth][secret_hash]") {
  CHECK(hash_secret("", 1000).err().code == "invalid_argument");
  CHECK(hash_secret("s", 999).err().code == "invalid_argument");
  CHECK(hash_secret("s", max_pbkdf2_iterations + 1).err().code == "invalid_argument");
  CHECK(hash_secret(std::string(1025, 's'), 1000).err().code == "invalid_argument");
  CHECK(hash_secret(std::string("s3cret\0", 7), 1000).err().code == "invalid_argument");
  CHECK(hash_secret("s3\tcret", 1000).err().code == "invalid_argument");
}

TEST_CASE("a secret followed by NUL bytes does not verify (HMAC's zero padding)", "[auth][secret_hash]") {
  const auto hash = hash_secret("s3cret", 1000);
  REQUIRE(hash.ok());
  CHECK(verify_secret("s3cret", hash.value()));
  CHECK_FALSE(verify_secret(std::string("s3cret\0", 7), hash.value()));
  CHECK_FALSE(verify_secret(std::string("s3cret\0\0", 8), hash.value()));
  CHECK_FALSE(verify_secret("s3cret\x7f", hash.value()));
}

TEST_CASE("a known PBKDF2-HMAC-SHA256 vector verifies", "[auth][secret_hash]") {
  // The widely published PBKDF2-HMAC-SHA256 vector: P="passwordPASSWORDpassword",
  // S="saltSALTsaltSALTsaltSALTsaltSALTsalt", c=4096, first 32 bytes of the derived key.
  const unsigned char expected[32] = {0x34, 0x8c, 0x89, 0xdb, 0xcb, 0xd3, 0x2b, 0x2f, 0x32, 0xd8, 0x14,
                                      0xb8, 0x11, 0x6e, 0x84, 0xcf, 0x2b, 0x17, 0x34, 0x7e, 0xbc, 0x18,
                                      0x00, 0x18, 0x1c, 0x4e, 0x2a, 0x1f, 0xb8, 0xdd, 0x53, 0xe1};
  const std::string encoded = "pbkdf2-sha256$4096$" +
                              base64url_encode("saltSALTsaltSALTsaltSALTsaltSALTsalt") + "$" +
                              base64url_encode(std::string(reinterpret_cast<const char*>(expected), 32));
  CHECK(verify_secret("passwordPASSWORDpassword", encoded));
}
