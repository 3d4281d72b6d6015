// Client secrets at rest: PBKDF2-HMAC-SHA256 in a self-describing string
//   pbkdf2-sha256$<iterations>$<salt base64url>$<hash base64url>
// so that the iteration count can grow without invalidating stored hashes.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "globemeet/core/result.hpp"

namespace globemeet::server::auth {

inline constexpr std::uint32_t default_pbkdf2_iterations = 600'000;  // OWASP 2023, SHA-256
inline constexpr std::uint32_t min_pbkdf2_iterations = 1'000;
inline constexpr std::uint32_t max_pbkdf2_iterations = 10'000'000;

// Hashes `secret` with a fresh random 16-byte salt. Errors (code "invalid_argument" or
// "internal_error") for an empty secret, iterations out of range, or an OpenSSL failure.
// The operator CLI (`globemeet-server hash-secret`) is a thin wrapper around this.
core::result<std::string> hash_secret(std::string_view secret,
                                      std::uint32_t iterations = default_pbkdf2_iterations);

// nullopt when `encoded` is a well-formed hash string; otherwise why not (code "invalid_hash").
std::optional<core::error> check_secret_hash(std::string_view encoded);

// The iteration count of a well-formed hash string, nullopt otherwise.
std::optional<std::uint32_t> secret_hash_iterations(std::string_view encoded);

// True when `secret` matches `encoded`; false for a mismatch or a malformed hash. The final
// comparison is constant-time; the cost is that of `iterations` rounds either way.
bool verify_secret(std::string_view secret, std::string_view encoded);

}  // namespace globemeet::server::auth
