// One JSON Web Key (RFC 7517, key types of RFC 7518 section 6) to and from a bound key.
#pragma once
#include <memory>
#include <string_view>

#include <boost/json/object.hpp>

#include "globemeet/core/result.hpp"
#include "key.hpp"

namespace globemeet::server::auth::detail {

// Parses a public JWK: EC (crv P-256, x, y of 32 bytes each, point on the curve), RSA (n of at
// least 2048 bits, e), or oct (k, at least 32 bytes) when `allow_oct`. Optional `alg` must be
// the type's algorithm and optional `use` must be "sig"; private members in an EC or RSA key
// are refused. `kid` is not read here. Errors have code "invalid_key".
core::result<std::shared_ptr<const key>> key_from_jwk(const boost::json::object& jwk, bool allow_oct);

// The public JWK of an EC or RSA key with `kid`, `alg` and `use: sig`.
core::result<boost::json::object> public_jwk(const key& k, std::string_view kid);

}  // namespace globemeet::server::auth::detail
