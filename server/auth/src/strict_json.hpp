// Strict JSON for JOSE headers, JWT payloads, JWKS and configuration, with the rules of
// docs/protocol.md section 2 (core::codec::check_strict_json): duplicate member names (which
// different parsers resolve differently, so an attacker could show one reader one value and
// another reader another), non-finite numbers, invalid UTF-8, lone surrogate escapes, a
// byte-order mark, nesting deeper than 64, trailing data and a top-level value other than an
// object are refused.
#pragma once
#include <cstddef>
#include <string_view>

#include <boost/json/object.hpp>

#include "globemeet/core/result.hpp"

namespace globemeet::server::auth::detail {

// The object, or the codec's error (code "bad_json", a message saying what and where).
core::result<boost::json::object> parse_strict_object(std::string_view text, std::size_t max_bytes);

}  // namespace globemeet::server::auth::detail
