#include "claims_codec.hpp"

#include <cmath>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "globemeet/core/topic.hpp"

namespace globemeet::server::auth::detail {
namespace {

namespace json = boost::json;

core::error invalid(std::string message) { return {"invalid_token", std::move(message)}; }

std::string claim(std::string_view name) { return "claim '" + std::string(name) + "'"; }

core::result<std::string> required_string(const json::object& payload, std::string_view name) {
  const json::value* v = payload.if_contains(name);
  if (v == nullptr) return invalid(claim(name) + " is missing");
  if (!v->is_string()) return invalid(claim(name) + " must be a string");
  return std::string(v->get_string());
}

// A NumericDate (RFC 7519 section 2) restricted to whole seconds in [0, 2^53).
core::result<std::int64_t> numeric_date(const json::value& v, std::string_view name) {
  const std::string must = claim(name) + " must be a non-negative integer number of seconds";
  if (v.is_int64()) {
    const std::int64_t n = v.get_int64();
    if (n < 0 || n > max_numeric_date) return invalid(must);
    return n;
  }
  if (v.is_uint64()) return invalid(must);  // beyond int64, so beyond 2^53
  if (v.is_double()) {
    const double d = v.get_double();
    if (!(d >= 0.0) || d > static_cast<double>(max_numeric_date) || std::floor(d) != d)
      return invalid(must);
    return static_cast<std::int64_t>(d);
  }
  return invalid(must);
}

core::result<std::int64_t> required_date(const json::object& payload, std::string_view name) {
  const json::value* v = payload.if_contains(name);
  if (v == nullptr) return invalid(claim(name) + " is missing");
  return numeric_date(*v, name);
}

}  // namespace

std::string encode_claims(const claims& c) {
  json::object payload;
  payload["iss"] = c.iss;
  payload["sub"] = c.sub;
  if (c.aud.size() == 1) {
    payload["aud"] = c.aud.front();
  } else {
    json::array aud;
    for (const auto& a : c.aud) aud.emplace_back(a);
    payload["aud"] = std::move(aud);
  }
  payload["iat"] = c.iat;
  payload["exp"] = c.exp;
  if (c.nbf) payload["nbf"] = *c.nbf;
  payload["tenant"] = c.tenant;
  json::array perms;
  for (const auto& p : c.perms) perms.emplace_back(p);
  payload["perms"] = std::move(perms);
  payload["pub"] = c.pub;
  return json::serialize(payload);
}

core::result<claims> decode_claims(const json::object& payload) {
  claims c;

  auto sub = required_string(payload, "sub");
  if (!sub) return sub.err();
  if (sub->empty()) return invalid("claim 'sub' is empty");
  c.sub = std::move(sub.value());

  auto tenant = required_string(payload, "tenant");
  if (!tenant) return tenant.err();
  if (!is_valid_tenant(tenant.value()))
    return invalid("claim 'tenant' must be 1 to 64 characters of A-Z a-z 0-9 _ -");
  c.tenant = std::move(tenant.value());

  const json::value* perms = payload.if_contains("perms");
  if (perms == nullptr) return invalid("claim 'perms' is missing");
  if (!perms->is_array()) return invalid("claim 'perms' must be an array of topic patterns");
  const json::array& patterns = perms->get_array();
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    const std::string where = "claim 'perms'[" + std::to_string(i) + "]";
    if (!patterns[i].is_string()) return invalid(where + " must be a string");
    const std::string_view pattern = patterns[i].get_string();
    // The grammar only: a perm that can match no name (`queue.support`) grants nothing, and a
    // token that carries one still grants its other perms (docs/protocol.md section 4).
    if (auto bad = core::topic::validate_pattern_grammar(pattern)) return invalid(where + ": " + bad->message);
    c.perms.emplace_back(pattern);
  }

  if (const json::value* pub = payload.if_contains("pub")) {
    if (!pub->is_bool()) return invalid("claim 'pub' must be a boolean");
    c.pub = pub->get_bool();
  }

  auto exp = required_date(payload, "exp");
  if (!exp) return exp.err();
  c.exp = exp.value();
  auto iat = required_date(payload, "iat");
  if (!iat) return iat.err();
  c.iat = iat.value();
  if (const json::value* nbf = payload.if_contains("nbf")) {
    auto value = numeric_date(*nbf, "nbf");
    if (!value) return value.err();
    c.nbf = value.value();
  }

  auto iss = required_string(payload, "iss");
  if (!iss) return iss.err();
  c.iss = std::move(iss.value());

  const json::value* aud = payload.if_contains("aud");
  if (aud == nullptr) return invalid("claim 'aud' is missing");
  if (aud->is_string()) {
    c.aud.emplace_back(aud->get_string());
  } else if (aud->is_array() && !aud->get_array().empty()) {
    for (const json::value& a : aud->get_array()) {
      if (!a.is_string()) return invalid("claim 'aud' must be a string or an array of strings");
      c.aud.emplace_back(a.get_string());
    }
  } else {
    return invalid("claim 'aud' must be a string or a non-empty array of strings");
  }
  return c;
}

}  // namespace globemeet::server::auth::detail
