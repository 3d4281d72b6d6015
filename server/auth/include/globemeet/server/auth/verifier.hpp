// JWT verification (RFC 7519 over JWS compact serialization, RFC 7515) for GlobeMeet access
// tokens: the algorithm allow-list, the key chosen by `kid` with its bound algorithm, the
// signature, then strict JSON and every claim of docs/protocol.md section 6.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "globemeet/core/result.hpp"
#include "globemeet/server/auth/claims.hpp"
#include "globemeet/server/auth/key_set.hpp"

namespace globemeet::server::auth {

inline constexpr std::size_t max_token_bytes = 16'384;

struct verifier_options {
  std::string issuer;                     // `iss` must equal it
  std::string audience = "globemeet-events";  // `aud` (string or array) must include it
  std::int64_t leeway_s = 30;             // clock skew allowed for exp, nbf and iat
};

class verifier {
 public:
  verifier(key_set keys, verifier_options options);

  // Verifies `token` at `now_unix_s`. Errors: code "token_expired" when (only) `exp` has
  // passed beyond the leeway, "invalid_token" for everything else, with a precise message
  // such as "alg 'none' is not allowed", "kid 'x' is unknown", "signature does not verify",
  // "aud does not include 'globemeet-events'". The token itself never appears in a message.
  // Thread-safe.
  core::result<claims> verify(std::string_view token, std::int64_t now_unix_s) const;

  const key_set& keys() const noexcept { return keys_; }
  const verifier_options& options() const noexcept { return options_; }

 private:
  key_set keys_;
  verifier_options options_;
};

}  // namespace globemeet::server::auth
