// The fixed JWS algorithm allow-list (docs/protocol.md section 6). Every key is bound to
// exactly one of these; a token's `alg` must equal its key's, which is what stops HS/RS
// confusion (an RSA public key can never be used as an HMAC secret).
#pragma once
#include <optional>
#include <string_view>

namespace globemeet::server::auth {

enum class algorithm {
  hs256,  // HMAC-SHA256, development only
  rs256,  // RSASSA-PKCS1-v1_5 with SHA-256, modulus of at least 2048 bits
  es256,  // ECDSA on P-256 with SHA-256, signature R||S (64 bytes) in the JWS
};

// "HS256", "RS256", "ES256".
std::string_view to_string(algorithm alg) noexcept;

// The algorithm named by a JWS `alg` header; nullopt for every other name, `none` included.
std::optional<algorithm> parse_algorithm(std::string_view name) noexcept;

}  // namespace globemeet::server::auth
