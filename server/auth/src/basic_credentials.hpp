// HTTP Basic client authentication as OAuth 2.0 defines it (RFC 6749 section 2.3.1): the
// client_id and secret are form-urlencoded, joined by ':', then base64 (RFC 7617).
#pragma once
#include <string>
#include <string_view>

#include "globemeet/core/result.hpp"

namespace globemeet::server::auth::detail {

struct basic_credentials {
  std::string client_id;
  std::string client_secret;
};

// True when the Authorization header value uses the Basic scheme (case-insensitive).
bool is_basic_scheme(std::string_view authorization);

// The credentials of a Basic Authorization header value. Errors (code "invalid_client") for
// malformed base64, a missing ':', bad percent-encoding or an empty client_id.
core::result<basic_credentials> parse_basic_authorization(std::string_view authorization);

}  // namespace globemeet::server::auth::detail
