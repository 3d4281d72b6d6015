#include "globemeet/server/auth/key_set.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "jwk.hpp"
#include "key.hpp"
#include "pem_keys.hpp"
#include "quoted.hpp"
#include "strict_json.hpp"

namespace globemeet::server::auth {
namespace {

namespace json = boost::json;

core::error invalid_key(std::string message) { return {"invalid_key", std::move(message)}; }

std::optional<core::error> check_kid(const std::string& kid) {
  if (kid.empty()) return invalid_key("kid is empty");
  return std::nullopt;
}

}  // namespace

core::result<key_set> key_set::from_jwks(std::string_view jwks_json, jwks_options options) {
  key_set set;
  if (auto failure = set.add_jwks(jwks_json, options)) return std::move(*failure);
  return set;
}

std::optional<core::error> key_set::add_jwks(std::string_view jwks_json, jwks_options options) {
  auto document = detail::parse_strict_object(jwks_json, max_jwks_bytes);
  if (!document) return invalid_key("JWKS: " + document.err().message);
  const json::value* keys = document->if_contains("keys");
  if (keys == nullptr || !keys->is_array()) return invalid_key("JWKS: member 'keys' must be an array");

  // Parse everything first so that a bad document adds nothing.
  std::map<std::string, std::shared_ptr<const detail::key>, std::less<>> parsed;
  const json::array& entries = keys->get_array();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string where = "JWKS keys[" + std::to_string(i) + "]";
    if (!entries[i].is_object()) return invalid_key(where + ": not an object");
    const json::object& jwk = entries[i].get_object();
    const json::value* kid_value = jwk.if_contains("kid");
    if (kid_value == nullptr || !kid_value->is_string())
      return invalid_key(where + ": member 'kid' must be a string (keys are chosen by kid)");
    std::string kid(kid_value->get_string());
    if (auto bad = check_kid(kid)) return invalid_key(where + ": " + bad->message);
    auto k = detail::key_from_jwk(jwk, options.allow_oct);
    if (!k) return invalid_key(where + " (kid " + detail::quoted(kid) + "): " + k.err().message);
    if (keys_.count(kid) != 0 || parsed.count(kid) != 0)
      return invalid_key(where + ": kid " + detail::quoted(kid) + " appears twice");
    parsed.emplace(std::move(kid), std::move(k.value()));
  }
  keys_.merge(parsed);
  return std::nullopt;
}

std::optional<core::error> key_set::add_public_pem(std::string kid, std::string_view pem) {
  if (auto bad = check_kid(kid)) return bad;
  if (keys_.count(kid) != 0) return invalid_key("kid " + detail::quoted(kid) + " appears twice");
  auto pkey = detail::read_public_pem(pem);
  if (!pkey) return invalid_key("kid " + detail::quoted(kid) + ": " + pkey.err().message);
  auto k = detail::key::from_pkey(std::move(pkey.value()), false);
  if (!k) return invalid_key("kid " + detail::quoted(kid) + ": " + k.err().message);
  keys_.emplace(std::move(kid), std::move(k.value()));
  return std::nullopt;
}

std::optional<core::error> key_set::add_hmac_secret(std::string kid, std::string_view secret) {
  if (auto bad = check_kid(kid)) return bad;
  if (keys_.count(kid) != 0) return invalid_key("kid " + detail::quoted(kid) + " appears twice");
  auto k = detail::key::from_hmac_secret(secret);
  if (!k) return invalid_key("kid " + detail::quoted(kid) + ": " + k.err().message);
  keys_.emplace(std::move(kid), std::move(k.value()));
  return std::nullopt;
}

std::optional<core::error> key_set::add(const key_set& other) {
  for (const auto& entry : other.keys_) {
    if (keys_.count(entry.first) != 0)
      return invalid_key("kid " + detail::quoted(entry.first) + " appears twice");
  }
  for (const auto& entry : other.keys_) keys_.insert(entry);
  return std::nullopt;
}

std::vector<std::string> key_set::kids() const {
  std::vector<std::string> out;
  out.reserve(keys_.size());
  for (const auto& entry : keys_) out.push_back(entry.first);
  return out;
}

std::optional<algorithm> key_set::algorithm_of(std::string_view kid) const {
  const detail::key* k = find(kid);
  if (k == nullptr) return std::nullopt;
  return k->alg();
}

const detail::key* key_set::find(std::string_view kid) const {
  const auto it = keys_.find(kid);
  return it == keys_.end() ? nullptr : it->second.get();
}

std::string key_set::to_jwks() const {
  json::array keys;
  for (const auto& [kid, k] : keys_) {
    if (k->alg() == algorithm::hs256) continue;  // secrets are never published
    auto jwk = detail::public_jwk(*k, kid);
    if (jwk) keys.push_back(std::move(jwk.value()));
  }
  json::object document;
  document["keys"] = std::move(keys);
  return json::serialize(document);
}

}  // namespace globemeet::server::auth
