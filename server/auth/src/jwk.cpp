#include "jwk.hpp"

#include <array>
#include <string>

#include <openssl/core_names.h>

#include "globemeet/server/auth/base64.hpp"
#include "quoted.hpp"

namespace globemeet::server::auth::detail {
namespace {

namespace json = boost::json;

core::error invalid_key(std::string message) { return {"invalid_key", std::move(message)}; }

// The base64url-decoded bytes of string member `name`.
core::result<std::string> binary_member(const json::object& jwk, std::string_view name) {
  const json::value* v = jwk.if_contains(name);
  if (v == nullptr) return invalid_key("member '" + std::string(name) + "' is missing");
  if (!v->is_string()) return invalid_key("member '" + std::string(name) + "' is not a string");
  const json::string& s = v->get_string();
  auto bytes = base64url_decode(std::string_view(s.data(), s.size()));
  if (!bytes) return invalid_key("member '" + std::string(name) + "' is not base64url");
  if (bytes->empty()) return invalid_key("member '" + std::string(name) + "' is empty");
  return std::move(*bytes);
}

core::result<evp_pkey_ptr> pkey_from_params(const char* type, OSSL_PARAM_BLD* builder) {
  params_ptr params(OSSL_PARAM_BLD_to_param(builder));
  evp_pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return invalid_key(std::string(type) + " key rejected by OpenSSL: " + take_openssl_error());
  }
  return evp_pkey_ptr(raw);
}

core::result<evp_pkey_ptr> ec_public_key(const json::object& jwk) {
  const json::value* crv = jwk.if_contains("crv");
  if (crv == nullptr) return invalid_key("member 'crv' is missing");
  if (!crv->is_string() || crv->get_string() != "P-256") {
    return invalid_key("curve " +
                       (crv->is_string() ? quoted(std::string_view(crv->get_string()))
                                         : std::string("(not a string)")) +
                       " is not allowed: only P-256 (ES256)");
  }
  auto x = binary_member(jwk, "x");
  if (!x) return x.err();
  auto y = binary_member(jwk, "y");
  if (!y) return y.err();
  if (x->size() != 32 || y->size() != 32)
    return invalid_key("P-256 coordinates 'x' and 'y' must be 32 bytes each");
  std::string point = "\x04" + x.value() + y.value();  // SEC 1 uncompressed point
  param_bld_ptr builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return invalid_key("cannot build EC key: " + take_openssl_error());
  }
  auto pkey = pkey_from_params("EC", builder.get());
  if (!pkey) return pkey.err();
  evp_pkey_ctx_ptr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey->get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    take_openssl_error();
    return invalid_key("EC point is not on P-256");
  }
  return std::move(pkey.value());
}

core::result<evp_pkey_ptr> rsa_public_key(const json::object& jwk) {
  auto n = binary_member(jwk, "n");
  if (!n) return n.err();
  auto e = binary_member(jwk, "e");
  if (!e) return e.err();
  bignum_ptr n_bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.value().data()),
                            static_cast<int>(n->size()), nullptr));
  bignum_ptr e_bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                            static_cast<int>(e->size()), nullptr));
  if (!n_bn || !e_bn) return invalid_key("cannot read RSA numbers: " + take_openssl_error());
  if (!BN_is_odd(e_bn.get()) || BN_is_one(e_bn.get()) || BN_num_bits(e_bn.get()) > 64)
    return invalid_key("RSA exponent 'e' is not a valid public exponent");
  param_bld_ptr builder(OSSL_PARAM_BLD_new());
  if (!builder || OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n_bn.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e_bn.get()) != 1) {
    return invalid_key("cannot build RSA key: " + take_openssl_error());
  }
  return pkey_from_params("RSA", builder.get());
}

std::string_view expected_alg(std::string_view kty) {
  if (kty == "EC") return "ES256";
  if (kty == "RSA") return "RS256";
  return "HS256";
}

core::result<std::string> bn_param(const EVP_PKEY* pkey, const char* name, int pad_to) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1)
    return invalid_key(std::string("cannot read key parameter ") + name + ": " + take_openssl_error());
  bignum_ptr bn(raw);
  const int length = pad_to > 0 ? pad_to : BN_num_bytes(bn.get());
  std::string bytes(static_cast<std::size_t>(length), '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(bytes.data()), length) != length)
    return invalid_key(std::string("key parameter ") + name + " does not fit");
  return bytes;
}

}  // namespace

core::result<std::shared_ptr<const key>> key_from_jwk(const json::object& jwk, bool allow_oct) {
  const json::value* kty_value = jwk.if_contains("kty");
  if (kty_value == nullptr) return invalid_key("member 'kty' is missing");
  if (!kty_value->is_string()) return invalid_key("member 'kty' is not a string");
  const std::string_view kty = kty_value->get_string();
  if (kty != "EC" && kty != "RSA" && kty != "oct")
    return invalid_key("kty " + quoted(kty) + " is not allowed: use EC, RSA or oct");
  if (kty == "oct" && !allow_oct)
    return invalid_key("kty 'oct' (shared secret) is not allowed here: enable it for development only");

  if (const json::value* alg = jwk.if_contains("alg")) {
    if (!alg->is_string() || alg->get_string() != expected_alg(kty)) {
      return invalid_key("alg " +
                         (alg->is_string() ? quoted(std::string_view(alg->get_string()))
                                           : std::string("(not a string)")) +
                         " does not fit kty '" + std::string(kty) + "': expected '" +
                         std::string(expected_alg(kty)) + "'");
    }
  }
  if (const json::value* use = jwk.if_contains("use")) {
    if (!use->is_string() || use->get_string() != "sig") return invalid_key("'use' must be \"sig\"");
  }
  if (kty != "oct") {
    for (const char* private_member : {"d", "p", "q", "dp", "dq", "qi", "oth"}) {
      if (jwk.contains(private_member))
        return invalid_key(std::string("private member '") + private_member +
                           "' in a public key set: publish public keys only");
    }
  }

  if (kty == "oct") {
    auto secret = binary_member(jwk, "k");
    if (!secret) return secret.err();
    return key::from_hmac_secret(secret.value());
  }
  auto pkey = kty == "EC" ? ec_public_key(jwk) : rsa_public_key(jwk);
  if (!pkey) return pkey.err();
  return key::from_pkey(std::move(pkey.value()), false);
}

core::result<json::object> public_jwk(const key& k, std::string_view kid) {
  json::object jwk;
  if (k.alg() == algorithm::es256) {
    auto x = bn_param(k.pkey(), OSSL_PKEY_PARAM_EC_PUB_X, 32);
    if (!x) return x.err();
    auto y = bn_param(k.pkey(), OSSL_PKEY_PARAM_EC_PUB_Y, 32);
    if (!y) return y.err();
    jwk["kty"] = "EC";
    jwk["crv"] = "P-256";
    jwk["x"] = base64url_encode(x.value());
    jwk["y"] = base64url_encode(y.value());
  } else if (k.alg() == algorithm::rs256) {
    auto n = bn_param(k.pkey(), OSSL_PKEY_PARAM_RSA_N, 0);
    if (!n) return n.err();
    auto e = bn_param(k.pkey(), OSSL_PKEY_PARAM_RSA_E, 0);
    if (!e) return e.err();
    jwk["kty"] = "RSA";
    jwk["n"] = base64url_encode(n.value());
    jwk["e"] = base64url_encode(e.value());
  } else {
    return invalid_key("an HMAC secret has no public JWK");
  }
  jwk["kid"] = kid;
  jwk["alg"] = to_string(k.alg());
  jwk["use"] = "sig";
  return jwk;
}

}  // namespace globemeet::server::auth::detail
