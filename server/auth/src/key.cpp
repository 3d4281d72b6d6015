#include "key.hpp"

#include <array>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include "ecdsa_signature.hpp"
#include "globemeet/server/auth/constant_time.hpp"
#include "globemeet/server/auth/key_set.hpp"

namespace globemeet::server::auth::detail {
namespace {

core::error invalid_key(std::string message) { return {"invalid_key", std::move(message)}; }

std::optional<std::string> hmac_sha256(std::string_view secret, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(),
           &length) == nullptr) {
    take_openssl_error();
    return std::nullopt;
  }
  return std::string(reinterpret_cast<const char*>(mac.data()), length);
}

}  // namespace

key::key(algorithm alg, evp_pkey_ptr pkey, std::string secret, bool is_private)
    : alg_(alg), pkey_(std::move(pkey)), secret_(std::move(secret)), is_private_(is_private) {}

key::~key() {
  if (!secret_.empty()) OPENSSL_cleanse(secret_.data(), secret_.size());
}

core::result<std::shared_ptr<const key>> key::from_pkey(evp_pkey_ptr pkey, bool is_private) {
  if (!pkey) return invalid_key("no key");
  if (EVP_PKEY_is_a(pkey.get(), "EC")) {
    std::array<char, 64> group{};
    std::size_t group_length = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey.get(), OSSL_PKEY_PARAM_GROUP_NAME, group.data(),
                                       group.size(), &group_length) != 1) {
      return invalid_key("EC key without a named curve: " + take_openssl_error());
    }
    const std::string_view curve(group.data(), group_length);
    if (curve != "prime256v1")
      return invalid_key("EC key on curve '" + std::string(curve) + "': only P-256 (ES256) is allowed");
    return std::shared_ptr<const key>(
        new key(algorithm::es256, std::move(pkey), std::string(), is_private));
  }
  if (EVP_PKEY_is_a(pkey.get(), "RSA")) {
    const int bits = EVP_PKEY_get_bits(pkey.get());
    if (bits < static_cast<int>(min_rsa_bits))
      return invalid_key("RSA key of " + std::to_string(bits) + " bits: at least " +
                         std::to_string(min_rsa_bits) + " are required");
    return std::shared_ptr<const key>(
        new key(algorithm::rs256, std::move(pkey), std::string(), is_private));
  }
  const char* type = EVP_PKEY_get0_type_name(pkey.get());
  return invalid_key(std::string("key type '") + (type != nullptr ? type : "unknown") +
                     "' is not allowed: use EC P-256 or RSA");
}

core::result<std::shared_ptr<const key>> key::from_hmac_secret(std::string_view secret) {
  if (secret.size() < min_hmac_secret_bytes)
    return invalid_key("HMAC secret of " + std::to_string(secret.size()) + " bytes: at least " +
                       std::to_string(min_hmac_secret_bytes) + " are required");
  return std::shared_ptr<const key>(
      new key(algorithm::hs256, evp_pkey_ptr(), std::string(secret), true));
}

bool key::verify(std::string_view signing_input, std::string_view signature) const {
  if (alg_ == algorithm::hs256) {
    const auto expected = hmac_sha256(secret_, signing_input);
    return expected && constant_time_equal(*expected, signature);
  }
  std::string der;
  if (alg_ == algorithm::es256) {
    auto converted = ecdsa_raw_to_der(signature);
    if (!converted) return false;
    der = std::move(*converted);
    signature = der;
  }
  evp_md_ctx_ptr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey_.get()) != 1) {
    take_openssl_error();
    return false;
  }
  const int verdict = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
      reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
  if (verdict != 1) take_openssl_error();  // a bad signature queues an error; drop it
  return verdict == 1;
}

std::optional<std::string> key::sign(std::string_view signing_input) const {
  if (!is_private_) return std::nullopt;
  if (alg_ == algorithm::hs256) return hmac_sha256(secret_, signing_input);
  evp_md_ctx_ptr ctx(EVP_MD_CTX_new());
  std::size_t length = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(signing_input.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length, data, signing_input.size()) != 1) {
    take_openssl_error();
    return std::nullopt;
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, data,
                     signing_input.size()) != 1) {
    take_openssl_error();
    return std::nullopt;
  }
  signature.resize(length);
  if (alg_ == algorithm::es256) return ecdsa_der_to_raw(signature);
  return signature;
}

}  // namespace globemeet::server::auth::detail
