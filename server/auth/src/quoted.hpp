// Untrusted text (a kid, an alg, an audience from a token) quoted for an error message: at most
// 64 bytes, printable ASCII only, so a message can neither smuggle control characters into a
// log nor carry a large piece of the token.
#pragma once
#include <string>
#include <string_view>

namespace globemeet::server::auth::detail {

// "'" + sanitized text + "'" (non-printable bytes become '?', long text ends in "...").
std::string quoted(std::string_view untrusted);

}  // namespace globemeet::server::auth::detail
