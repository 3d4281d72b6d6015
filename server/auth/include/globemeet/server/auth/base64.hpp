// Base64 in the two spellings the auth layer meets: base64url without padding (RFC 7515
// section 2, every JWT segment and JWK member) and standard base64 with padding (RFC 4648
// section 4, the HTTP Basic credentials of the token endpoint).
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace globemeet::server::auth {

// Encodes bytes as base64url without padding.
std::string base64url_encode(std::string_view bytes);

// Decodes strict base64url: only the url-safe alphabet, no padding `=`, no whitespace, and the
// unused low bits of the last character must be zero (one canonical spelling per value).
// nullopt when the text breaks any of these rules.
std::optional<std::string> base64url_decode(std::string_view text);

// Decodes strict standard base64: alphabet `A-Z a-z 0-9 + /`, padding required to a multiple
// of four characters, canonical final bits. nullopt otherwise.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace globemeet::server::auth
