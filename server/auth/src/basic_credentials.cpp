#include "basic_credentials.hpp"

#include <cctype>

#include "globemeet/server/auth/base64.hpp"
#include "globemeet/server/auth/form_urlencoded.hpp"

namespace globemeet::server::auth::detail {
namespace {

constexpr std::string_view scheme = "basic";

core::error invalid_client(std::string message) { return {"invalid_client", std::move(message)}; }

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool is_basic_scheme(std::string_view authorization) {
  authorization = trim_spaces(authorization);
  if (authorization.size() <= scheme.size()) return false;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i]) return false;
  }
  return authorization[scheme.size()] == ' ';
}

core::result<basic_credentials> parse_basic_authorization(std::string_view authorization) {
  if (!is_basic_scheme(authorization)) return invalid_client("the Authorization header is not Basic");
  const std::string_view encoded = trim_spaces(trim_spaces(authorization).substr(scheme.size()));
  const auto decoded = base64_decode(encoded);
  if (!decoded) return invalid_client("the Basic credentials are not base64");
  const std::size_t colon = decoded->find(':');
  if (colon == std::string::npos) return invalid_client("the Basic credentials have no ':'");
  auto id = form_decode_component(std::string_view(*decoded).substr(0, colon));
  auto secret = form_decode_component(std::string_view(*decoded).substr(colon + 1));
  if (!id || !secret) return invalid_client("the Basic credentials have a malformed percent-encoding");
  if (id->empty()) return invalid_client("the Basic credentials have an empty client_id");
  return basic_credentials{std::move(*id), std::move(*secret)};
}

}  // namespace globemeet::server::auth::detail
