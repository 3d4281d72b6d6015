// The verification keys the server trusts, by `kid`: loaded from a JWKS document (RFC 7517),
// from PEM public keys, or (development only) from HMAC secrets. Each key is bound to one
// algorithm at load time: EC P-256 -> ES256, RSA (>= 2048 bits) -> RS256, oct -> HS256.
// A key_set is immutable once built and shared cheaply by copy; `find` is thread-safe.
#pragma once
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "globemeet/core/result.hpp"
#include "globemeet/server/auth/algorithm.hpp"

namespace globemeet::server::auth {

namespace detail {
class key;  // the parsed key material (an OpenSSL EVP_PKEY, or an HMAC secret)
}

inline constexpr std::size_t min_rsa_bits = 2048;
inline constexpr std::size_t min_hmac_secret_bytes = 32;  // RFC 7518 section 3.2
inline constexpr std::size_t max_jwks_bytes = 1'048'576;

struct jwks_options {
  // `kty: oct` keys (shared HMAC secrets) are refused unless this is set: development only.
  bool allow_oct = false;
};

class key_set {
 public:
  key_set() = default;

  // Parses a JWKS document {"keys":[...]}. Every key needs a `kid` (unique in the set) and its
  // key members (EC: crv P-256, x, y; RSA: n, e; oct: k). A key's optional `alg` must be the
  // algorithm of its type and its optional `use` must be "sig"; EC/RSA keys that carry
  // private members (`d`, ...) are refused, as is anything that is not strict JSON. Errors
  // have code "invalid_key" and name the key ("JWKS keys[1] (kid 'k2'): ...").
  static core::result<key_set> from_jwks(std::string_view jwks_json, jwks_options options = {});

  // Adds every key of a JWKS document, with the rules above.
  std::optional<core::error> add_jwks(std::string_view jwks_json, jwks_options options = {});
  // Adds a PEM "PUBLIC KEY" (SubjectPublicKeyInfo): EC P-256 or RSA >= 2048 bits.
  std::optional<core::error> add_public_pem(std::string kid, std::string_view pem);
  // Adds an HMAC secret (HS256) of at least 32 bytes: development only.
  std::optional<core::error> add_hmac_secret(std::string kid, std::string_view secret);
  // Adds every key of `other`; an already present kid is an error and nothing is added.
  std::optional<core::error> add(const key_set& other);

  bool empty() const noexcept { return keys_.empty(); }
  std::size_t size() const noexcept { return keys_.size(); }
  std::vector<std::string> kids() const;
  // The algorithm bound to `kid`, or nullopt when unknown.
  std::optional<algorithm> algorithm_of(std::string_view kid) const;
  // The key for `kid`, or nullptr. The pointer stays valid as long as any copy of the set.
  const detail::key* find(std::string_view kid) const;

  // The public JWKS document of the EC and RSA keys (oct secrets are never exported).
  std::string to_jwks() const;

 private:
  std::map<std::string, std::shared_ptr<const detail::key>, std::less<>> keys_;
  friend class signer;
};

}  // namespace globemeet::server::auth
