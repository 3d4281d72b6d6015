// JWS compact serialization (RFC 7515 section 7.1): BASE64URL(header) "." BASE64URL(payload)
// "." BASE64URL(signature), where the signature covers the first two segments as written.
#pragma once
#include <string>
#include <string_view>

#include "globemeet/core/result.hpp"
#include "key.hpp"

namespace globemeet::server::auth::detail {

struct compact_parts {
  std::string_view header;         // still base64url
  std::string_view payload;        // still base64url
  std::string_view signature;      // still base64url
  std::string_view signing_input;  // header "." payload
};

// Splits a token into its three segments; refuses any other count and an empty header or
// payload (code "invalid_token"). An empty signature is left to the caller, which reports
// `alg: none` first. Views point into `token`.
core::result<compact_parts> split_compact(std::string_view token);

// Signs `header_json` and `payload_json` with `k`; nullopt when signing fails.
std::optional<std::string> make_compact(std::string_view header_json, std::string_view payload_json,
                                        const key& k);

}  // namespace globemeet::server::auth::detail
