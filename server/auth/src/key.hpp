// One key bound to one algorithm: an OpenSSL EVP_PKEY (EC P-256 or RSA >= 2048 bits, public or
// private) or an HMAC secret. Immutable after construction, so one instance is safely shared
// by every thread that signs or verifies.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "globemeet/core/result.hpp"
#include "globemeet/server/auth/algorithm.hpp"
#include "openssl_handles.hpp"

namespace globemeet::server::auth::detail {

class key {
 public:
  // Binds an asymmetric key to its algorithm: EC on P-256 -> ES256, RSA of at least 2048 bits
  // -> RS256; any other key is refused (code "invalid_key").
  static core::result<std::shared_ptr<const key>> from_pkey(evp_pkey_ptr pkey, bool is_private);
  // An HS256 secret of at least min_hmac_secret_bytes.
  static core::result<std::shared_ptr<const key>> from_hmac_secret(std::string_view secret);

  key(const key&) = delete;
  key& operator=(const key&) = delete;
  ~key();

  algorithm alg() const noexcept { return alg_; }
  bool is_private() const noexcept { return is_private_; }
  // The EVP_PKEY of an EC or RSA key (nullptr for HS256).
  EVP_PKEY* pkey() const noexcept { return pkey_.get(); }

  // True when `signature` (JWS form: R||S for ES256) signs `signing_input` with this key.
  bool verify(std::string_view signing_input, std::string_view signature) const;
  // The JWS-form signature of `signing_input`; nullopt when this is a public key or OpenSSL
  // fails.
  std::optional<std::string> sign(std::string_view signing_input) const;

 private:
  key(algorithm alg, evp_pkey_ptr pkey, std::string secret, bool is_private);
  algorithm alg_;
  evp_pkey_ptr pkey_;
  std::string secret_;
  bool is_private_;
};

}  // namespace globemeet::server::auth::detail
