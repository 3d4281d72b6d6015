// The JWT payload <-> claims: member names, JSON types and the rules that do not depend on the
// verifier's configuration or the clock (those live in the verifier).
#pragma once
#include <string>

#include <boost/json/object.hpp>

#include "globemeet/core/result.hpp"
#include "globemeet/server/auth/claims.hpp"

namespace globemeet::server::auth::detail {

// Largest NumericDate accepted: 2^53 - 1, exact in every JSON reader and far from overflow.
inline constexpr std::int64_t max_numeric_date = 9'007'199'254'740'991;

// The payload JSON: iss, sub, aud (string for one audience), iat, exp, nbf?, tenant, perms, pub.
std::string encode_claims(const claims& c);

// Reads and type-checks every claim: sub (non-empty string), tenant (see is_valid_tenant),
// perms (array of valid topic patterns), pub (optional bool), exp and iat (required) and nbf
// (optional) as non-negative integers, iss (string), aud (string or non-empty array of
// strings). Unknown claims are ignored. Errors have code "invalid_token".
core::result<claims> decode_claims(const boost::json::object& payload);

}  // namespace globemeet::server::auth::detail
