// application/x-www-form-urlencoded (the WHATWG URL standard's parser, made strict for OAuth:
// RFC 6749 section 3.2 forbids repeated parameters).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "globemeet/core/result.hpp"

namespace globemeet::server::auth {

// Decodes one component: `+` is a space, `%XY` a byte. nullopt for a `%` not followed by two
// hex digits.
std::optional<std::string> form_decode_component(std::string_view text);

// Splits `body` on `&` into decoded name/value pairs in order; empty pieces are skipped, a
// piece without `=` has an empty value. Errors (code "invalid_request"): bad percent-encoding,
// an empty name, or a name that appears twice.
core::result<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view body);

}  // namespace globemeet::server::auth
