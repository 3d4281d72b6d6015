#include "globemeet/server/auth/signer.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "claims_codec.hpp"
#include "jws_compact.hpp"
#include "key.hpp"
#include "openssl_handles.hpp"
#include "pem_keys.hpp"

namespace globemeet::server::auth {
namespace {

core::error invalid_key(std::string message) { return {"invalid_key", std::move(message)}; }

}  // namespace

signer::signer(std::string kid, std::shared_ptr<const detail::key> private_key, key_set public_keys)
    : kid_(std::move(kid)), private_key_(std::move(private_key)), public_keys_(std::move(public_keys)) {}

core::result<signer> signer::from_private_pem(std::string kid, std::string_view pem) {
  if (kid.empty()) return invalid_key("kid is empty");
  auto pkey = detail::read_private_pem(pem);
  if (!pkey) return pkey.err();
  auto k = detail::key::from_pkey(std::move(pkey.value()), true);
  if (!k) return k.err();
  // The verification set shares the immutable key object: verifying and exporting the JWK
  // read only its public half.
  key_set keys;
  keys.keys_.emplace(kid, k.value());
  return signer(std::move(kid), std::move(k.value()), std::move(keys));
}

core::result<signer> signer::from_hmac_secret(std::string kid, std::string_view secret) {
  if (kid.empty()) return invalid_key("kid is empty");
  auto k = detail::key::from_hmac_secret(secret);
  if (!k) return k.err();
  key_set keys;
  keys.keys_.emplace(kid, k.value());
  return signer(std::move(kid), std::move(k.value()), std::move(keys));
}

core::result<signer> signer::generate_es256(std::string kid) {
  if (kid.empty()) return invalid_key("kid is empty");
  detail::evp_pkey_ptr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!pkey) return core::error{"internal_error", "EC key generation failed: " + detail::take_openssl_error()};
  auto k = detail::key::from_pkey(std::move(pkey), true);
  if (!k) return k.err();
  key_set keys;
  keys.keys_.emplace(kid, k.value());
  return signer(std::move(kid), std::move(k.value()), std::move(keys));
}

algorithm signer::alg() const noexcept { return private_key_->alg(); }

core::result<std::string> signer::sign(const claims& c) const {
  boost::json::object header;
  header["alg"] = to_string(alg());
  header["typ"] = "JWT";
  header["kid"] = kid_;
  auto token = detail::make_compact(boost::json::serialize(header), detail::encode_claims(c),
                                    *private_key_);
  if (!token) return core::error{"internal_error", "signing failed"};
  return std::move(*token);
}

std::string signer::public_jwks() const { return public_keys_.to_jwks(); }

key_set signer::verification_keys() const { return public_keys_; }

}  // namespace globemeet::server::auth
