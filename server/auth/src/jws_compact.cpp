#include "jws_compact.hpp"

#include <algorithm>

#include "globemeet/server/auth/base64.hpp"

namespace globemeet::server::auth::detail {

core::result<compact_parts> split_compact(std::string_view token) {
  const auto dots = std::count(token.begin(), token.end(), '.');
  if (dots != 2) {
    return core::error{"invalid_token", "token has " + std::to_string(dots + 1) +
                                            " segments; a signed JWT has 3"};
  }
  const std::size_t first = token.find('.');
  const std::size_t second = token.find('.', first + 1);
  compact_parts parts;
  parts.header = token.substr(0, first);
  parts.payload = token.substr(first + 1, second - first - 1);
  parts.signature = token.substr(second + 1);
  parts.signing_input = token.substr(0, second);
  if (parts.header.empty()) return core::error{"invalid_token", "header segment is empty"};
  if (parts.payload.empty()) return core::error{"invalid_token", "payload segment is empty"};
  return parts;
}

std::optional<std::string> make_compact(std::string_view header_json, std::string_view payload_json,
                                        const key& k) {
  std::string token = base64url_encode(header_json);
  token += '.';
  token += base64url_encode(payload_json);
  auto signature = k.sign(token);
  if (!signature) return std::nullopt;
  token += '.';
  token += base64url_encode(*signature);
  return token;
}

}  // namespace globemeet::server::auth::detail
