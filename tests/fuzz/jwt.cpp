// JWT verification (server/auth verifier) and base64, on arbitrary bytes. The first byte picks:
//   'h' / 'e': the rest is "<header JSON>\n<payload JSON>", signed here with the HS256 secret /
//              the ES256 key, so header and claim checks are reached past the signature;
//   'b':       the rest is base64 text;
//   otherwise: the whole input is a token, verified as it is.
// Checks: a token that verifies has a signature that OpenSSL, called directly here, confirms
// for the key its header names, and claims that satisfy every documented rule at that time;
// accepted base64 / base64url text is canonical (re-encoding the bytes gives it back).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "check.hpp"
#include "globemeet/core/codec.hpp"
#include "globemeet/core/topic.hpp"
#include "globemeet/server/auth/base64.hpp"
#include "globemeet/server/auth/claims.hpp"
#include "globemeet/server/auth/verifier.hpp"
#include "jws_compact.hpp"
#include "key.hpp"

namespace auth = globemeet::server::auth;

namespace {

constexpr std::string_view hmac_secret = "fuzz-hmac-secret-of-at-least-32-bytes";
constexpr std::int64_t now = 1'800'000'000;  // the seeds' tokens are valid at this time
constexpr std::string_view issuer = "https://auth.fuzz";

struct fixture {
  EVP_PKEY* ec = nullptr;  // the ES256 key pair, generated once per process
  std::shared_ptr<const auth::detail::key> ec_signing;
  std::optional<auth::verifier> verifier;

  fixture() {
    ec = EVP_EC_gen("P-256");
    FUZZ_CHECK(ec != nullptr);
    EVP_PKEY_up_ref(ec);
    auto signing = auth::detail::key::from_pkey(auth::detail::evp_pkey_ptr(ec), true);
    FUZZ_CHECK(signing.ok());
    ec_signing = signing.value();

    BIO* bio = BIO_new(BIO_s_mem());
    FUZZ_CHECK(PEM_write_bio_PUBKEY(bio, ec) == 1);
    char* pem = nullptr;
    const long pem_size = BIO_get_mem_data(bio, &pem);
    auth::key_set keys;
    FUZZ_CHECK(!keys.add_hmac_secret("hs", hmac_secret));
    FUZZ_CHECK(!keys.add_public_pem("es", std::string_view(pem, static_cast<std::size_t>(pem_size))));
    BIO_free(bio);
    verifier.emplace(std::move(keys), auth::verifier_options{std::string(issuer), "globemeet-events", 30});
  }
};

std::string hmac_sha256(std::string_view input) {
  unsigned char out[32];
  unsigned int size = 0;
  HMAC(EVP_sha256(), hmac_secret.data(), static_cast<int>(hmac_secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), out, &size);
  return std::string(reinterpret_cast<const char*>(out), size);
}

// ES256: R||S (32 bytes each) to DER, then OpenSSL's verify with the public key.
bool es256_valid(EVP_PKEY* key, std::string_view input, std::string_view raw) {
  if (raw.size() != 64) return false;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  ECDSA_SIG_set0(sig, BN_bin2bn(bytes, 32, nullptr), BN_bin2bn(bytes + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int der_size = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = der_size > 0 && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
                  EVP_DigestVerify(ctx, der, static_cast<std::size_t>(der_size),
                                   reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  return ok;
}

void check_verified(const fixture& f, std::string_view token, const auth::claims& c) {
  const auto first = token.find('.');
  const auto last = token.rfind('.');
  FUZZ_CHECK(first != last);
  const auto signing_input = token.substr(0, last);
  const auto signature = auth::base64url_decode(token.substr(last + 1));
  FUZZ_CHECK(signature.has_value());
  const auto header = auth::base64url_decode(token.substr(0, first));
  FUZZ_CHECK(header.has_value());
  // Which key verified it: the header's kid (the header is strict JSON, so any reader agrees).
  const boost::json::value parsed = boost::json::parse(*header);
  if (parsed.as_object().at("kid").as_string() == "hs") {
    FUZZ_CHECK(*signature == hmac_sha256(signing_input));
  } else {
    FUZZ_CHECK(es256_valid(f.ec, signing_input, *signature));
  }

  FUZZ_CHECK(c.iss == issuer);
  FUZZ_CHECK(std::find(c.aud.begin(), c.aud.end(), "globemeet-events") != c.aud.end());
  FUZZ_CHECK(!c.sub.empty());
  FUZZ_CHECK(auth::is_valid_tenant(c.tenant));
  // The grammar only: a perm that can match no name is kept and grants nothing.
  for (const auto& p : c.perms) FUZZ_CHECK(!globemeet::core::topic::validate_pattern_grammar(p));
  FUZZ_CHECK(c.exp > c.iat && now < c.exp + 30 && c.iat <= now + 30);
  FUZZ_CHECK(!c.nbf || *c.nbf <= now + 30);
}

void base64_round_trip(std::string_view text) {
  if (const auto bytes = auth::base64url_decode(text)) FUZZ_CHECK(auth::base64url_encode(*bytes) == text);
  if (const auto bytes = auth::base64_decode(text)) {
    std::string encoded(4 * ((bytes->size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                  reinterpret_cast<const unsigned char*>(bytes->data()), static_cast<int>(bytes->size()));
    encoded.resize(static_cast<std::size_t>(n));
    FUZZ_CHECK(encoded == text);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fixture f;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (input.empty()) return 0;

  std::string token;
  const char mode = input[0];
  if (mode == 'b') {
    base64_round_trip(input.substr(1));
    return 0;
  }
  if (mode == 'h' || mode == 'e') {
    const auto rest = input.substr(1);
    const auto newline = rest.find('\n');
    if (newline == std::string_view::npos) return 0;
    const auto header = rest.substr(0, newline);
    const auto payload = rest.substr(newline + 1);
    if (mode == 'h') {
      token = auth::base64url_encode(header) + "." + auth::base64url_encode(payload);
      token += "." + auth::base64url_encode(hmac_sha256(token));
    } else {
      auto signed_token = auth::detail::make_compact(header, payload, *f.ec_signing);
      FUZZ_CHECK(signed_token.has_value());
      token = std::move(*signed_token);
    }
  } else {
    token.assign(input);
  }

  (void)globemeet::core::codec::jwt_expiry(token);
  auto verified = f.verifier->verify(token, now);
  if (!verified) {
    FUZZ_CHECK(verified.err().code == "invalid_token" || verified.err().code == "token_expired");
    return 0;
  }
  check_verified(f, token, verified.value());
  return 0;
}
