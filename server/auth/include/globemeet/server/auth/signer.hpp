// Issues access tokens: one private key (or HMAC secret) bound to one algorithm and one `kid`,
// and the public JWKS document that lets anyone verify what it signs.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "globemeet/core/result.hpp"
#include "globemeet/server/auth/algorithm.hpp"
#include "globemeet/server/auth/claims.hpp"
#include "globemeet/server/auth/key_set.hpp"

namespace globemeet::server::auth {

class signer {
 public:
  // A PEM private key (PKCS#8 "PRIVATE KEY", or the traditional "EC PRIVATE KEY" /
  // "RSA PRIVATE KEY"): EC P-256 signs ES256, RSA >= 2048 bits signs RS256. Encrypted PEM is
  // refused. Errors have code "invalid_key".
  static core::result<signer> from_private_pem(std::string kid, std::string_view pem);
  // An HMAC secret of at least 32 bytes, HS256: development only.
  static core::result<signer> from_hmac_secret(std::string kid, std::string_view secret);
  // A fresh ephemeral EC P-256 key (the embedded default run: tokens die with the process).
  static core::result<signer> generate_es256(std::string kid);

  algorithm alg() const noexcept;
  const std::string& kid() const noexcept { return kid_; }

  // The compact JWT for `c`: header {"alg","typ":"JWT","kid"}, payload with iss, sub, aud (a
  // string when there is one audience), iat, exp, nbf (when set), tenant, perms, pub.
  // Fails (code "internal_error") only if OpenSSL does. Thread-safe.
  core::result<std::string> sign(const claims& c) const;

  // {"keys":[{...public JWK with kid, alg, use...}]}; for HS256 {"keys":[]} (secrets are not
  // published). Serve it at /.well-known/jwks.json.
  std::string public_jwks() const;
  // The key_set that verifies this signer's tokens (for HS256 it holds the secret).
  key_set verification_keys() const;

 private:
  signer(std::string kid, std::shared_ptr<const detail::key> private_key, key_set public_keys);
  std::string kid_;
  std::shared_ptr<const detail::key> private_key_;
  key_set public_keys_;
};

}  // namespace globemeet::server::auth
