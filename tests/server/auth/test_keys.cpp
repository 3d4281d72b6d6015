#include "test_keys.hpp"

#include <stdexcept>

#include <openssl/ecdsa.h>
#include <openssl/pem.h>

#include "globemeet/server/auth/base64.hpp"
#include "jws_compact.hpp"
#include "key.hpp"
#include "openssl_handles.hpp"
#include "pem_keys.hpp"

namespace globemeet::server::auth::test {
namespace {

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(length));
}

pem_pair to_pem(EVP_PKEY* pkey) {
  if (pkey == nullptr) throw std::runtime_error("key generation failed");
  detail::evp_pkey_ptr owned(pkey);
  detail::bio_ptr priv(BIO_new(BIO_s_mem()));
  detail::bio_ptr pub(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(priv.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      PEM_write_bio_PUBKEY(pub.get(), pkey) != 1) {
    throw std::runtime_error("PEM export failed");
  }
  return {bio_text(priv.get()), bio_text(pub.get())};
}

}  // namespace

pem_pair make_ec_pem(const char* curve) {
  return to_pem(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
}

pem_pair make_rsa_pem(unsigned bits) {
  return to_pem(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
}

std::string make_encrypted_ec_pem(const char* passphrase) {
  detail::evp_pkey_ptr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  detail::bio_ptr bio(BIO_new(BIO_s_mem()));
  const auto* pass = reinterpret_cast<const unsigned char*>(passphrase);
  if (!pkey || PEM_write_bio_PrivateKey(bio.get(), pkey.get(), EVP_aes_256_cbc(), pass,
                                        static_cast<int>(std::string_view(passphrase).size()),
                                        nullptr, nullptr) != 1) {
    throw std::runtime_error("encrypted PEM export failed");
  }
  return bio_text(bio.get());
}

std::string sign_with_pem(std::string_view header_json, std::string_view payload_json,
                          std::string_view private_pem) {
  auto pkey = detail::read_private_pem(private_pem);
  if (!pkey) throw std::runtime_error(pkey.err().message);
  auto k = detail::key::from_pkey(std::move(pkey.value()), true);
  if (!k) throw std::runtime_error(k.err().message);
  auto token = detail::make_compact(header_json, payload_json, *k.value());
  if (!token) throw std::runtime_error("signing failed");
  return *token;
}

std::string sign_with_secret(std::string_view header_json, std::string_view payload_json,
                             std::string_view secret) {
  auto k = detail::key::from_hmac_secret(secret);
  if (!k) throw std::runtime_error(k.err().message);
  auto token = detail::make_compact(header_json, payload_json, *k.value());
  if (!token) throw std::runtime_error("signing failed");
  return *token;
}

std::string sign_ecdsa_any_curve(std::string_view header_json, std::string_view payload_json,
                                 std::string_view private_pem) {
  auto pkey = detail::read_private_pem(private_pem);
  if (!pkey) throw std::runtime_error(pkey.err().message);
  const std::string input = base64url_encode(header_json) + "." + base64url_encode(payload_json);
  detail::evp_md_ctx_ptr ctx(EVP_MD_CTX_new());
  std::size_t length = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey->get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length, data, input.size()) != 1)
    throw std::runtime_error("signing failed");
  std::string der(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &length, data,
                     input.size()) != 1)
    throw std::runtime_error("signing failed");
  const auto* in = reinterpret_cast<const unsigned char*>(der.data());
  detail::ecdsa_sig_ptr sig(d2i_ECDSA_SIG(nullptr, &in, static_cast<long>(length)));
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  const int size = (EVP_PKEY_get_bits(pkey->get()) + 7) / 8;
  std::string raw(static_cast<std::size_t>(2 * size), '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  BN_bn2binpad(r, out, size);
  BN_bn2binpad(s, out + size, size);
  return input + "." + base64url_encode(raw);
}

std::string unsigned_token(std::string_view header_json, std::string_view payload_json) {
  return base64url_encode(header_json) + "." + base64url_encode(payload_json) + ".";
}

std::string good_payload(std::int64_t now, std::string_view extra) {
  std::string payload = R"({"iss":"https://auth.test","aud":"globemeet-events","sub":"svc-1",)"
                        R"("tenant":"acme","perms":["queue.>","agent.*.online"],"iat":)" +
                        std::to_string(now) + R"(,"exp":)" + std::to_string(now + 900);
  if (!extra.empty()) payload += "," + std::string(extra);
  payload += "}";
  return payload;
}

}  // namespace globemeet::server::auth::test
