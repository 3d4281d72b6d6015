// Order of checks: cheap structural checks, then the header (algorithm allow-list, key by kid,
// the key's bound algorithm), then the signature, and only then the payload: nothing in an
// unauthenticated payload is interpreted. Expiry is checked last so that a token that is both
// expired and wrong is reported as wrong (final), not as expired (worth a reconnect).
#include "globemeet/server/auth/verifier.hpp"

#include <algorithm>
#include <cctype>

#include "claims_codec.hpp"
#include "globemeet/server/auth/base64.hpp"
#include "jws_compact.hpp"
#include "key.hpp"
#include "quoted.hpp"
#include "strict_json.hpp"

namespace globemeet::server::auth {
namespace {

namespace json = boost::json;
using detail::quoted;

core::error invalid(std::string message) { return {"invalid_token", std::move(message)}; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// `typ` is optional; when present it must name a JWT (RFC 7519 section 5.1) or an OAuth
// access token JWT (RFC 9068), with or without the "application/" prefix.
bool is_jwt_type(std::string_view typ) {
  if (typ.size() > 12 && iequals(typ.substr(0, 12), "application/")) typ.remove_prefix(12);
  return iequals(typ, "JWT") || iequals(typ, "at+jwt");
}

// The key named by the header, after every header rule; the header is decoded and strict.
core::result<const detail::key*> select_key(std::string_view header_b64, const key_set& keys) {
  const auto header_bytes = base64url_decode(header_b64);
  if (!header_bytes) return invalid("header is not base64url");
  auto header = detail::parse_strict_object(*header_bytes, max_token_bytes);
  if (!header) return invalid("header: " + header.err().message);

  const json::value* alg_value = header->if_contains("alg");
  if (alg_value == nullptr) return invalid("header has no 'alg'");
  if (!alg_value->is_string()) return invalid("header 'alg' must be a string");
  const std::string_view alg_name = alg_value->get_string();
  if (iequals(alg_name, "none")) return invalid("alg 'none' is not allowed");
  const auto alg = parse_algorithm(alg_name);
  if (!alg) return invalid("alg " + quoted(alg_name) + " is not allowed");

  if (header->contains("crit")) return invalid("header 'crit' names extensions this server does not support");
  if (const json::value* typ = header->if_contains("typ")) {
    if (!typ->is_string() || !is_jwt_type(typ->get_string()))
      return invalid("header 'typ' does not name a JWT");
  }

  const json::value* kid_value = header->if_contains("kid");
  if (kid_value == nullptr) return invalid("header has no 'kid'");
  if (!kid_value->is_string()) return invalid("header 'kid' must be a string");
  const std::string_view kid = kid_value->get_string();
  const detail::key* k = keys.find(kid);
  if (k == nullptr) return invalid("kid " + quoted(kid) + " is unknown");
  if (k->alg() != *alg) {
    return invalid("alg " + quoted(alg_name) + " does not match kid " + quoted(kid) + ", which is " +
                   std::string(to_string(k->alg())));
  }
  return k;
}

}  // namespace

verifier::verifier(key_set keys, verifier_options options)
    : keys_(std::move(keys)), options_(std::move(options)) {}

core::result<claims> verifier::verify(std::string_view token, std::int64_t now_unix_s) const {
  if (token.empty()) return invalid("token is empty");
  if (token.size() > max_token_bytes)
    return invalid("token is larger than " + std::to_string(max_token_bytes) + " bytes");
  auto parts = detail::split_compact(token);
  if (!parts) return parts.err();

  auto k = select_key(parts->header, keys_);
  if (!k) return k.err();

  if (parts->signature.empty()) return invalid("signature segment is empty");
  const auto signature = base64url_decode(parts->signature);
  if (!signature) return invalid("signature is not base64url");
  if (!k.value()->verify(parts->signing_input, *signature)) return invalid("signature does not verify");

  const auto payload_bytes = base64url_decode(parts->payload);
  if (!payload_bytes) return invalid("payload is not base64url");
  auto payload = detail::parse_strict_object(*payload_bytes, max_token_bytes);
  if (!payload) return invalid("payload: " + payload.err().message);
  auto decoded = detail::decode_claims(payload.value());
  if (!decoded) return decoded.err();
  claims& c = decoded.value();

  if (c.iss != options_.issuer) return invalid("iss " + quoted(c.iss) + " is not the expected issuer");
  if (std::find(c.aud.begin(), c.aud.end(), options_.audience) == c.aud.end())
    return invalid("aud does not include " + quoted(options_.audience));
  const std::int64_t leeway = std::max<std::int64_t>(options_.leeway_s, 0);
  if (c.exp <= c.iat) return invalid("exp is not after iat");
  if (c.iat > now_unix_s + leeway) return invalid("iat is in the future");
  if (c.nbf && *c.nbf > now_unix_s + leeway)
    return invalid("token is not valid before " + std::to_string(*c.nbf) + " (nbf)");
  if (now_unix_s >= c.exp + leeway)
    return core::error{"token_expired", "token expired at " + std::to_string(c.exp) + " (exp)"};
  return std::move(decoded.value());
}

}  // namespace globemeet::server::auth
