// Names of the allowed JWS algorithms (RFC 7518 section 3.1). Matching is exact and
// case-sensitive, as in the RFC: "hs256" or "None" are not algorithms.
#include "globemeet/server/auth/algorithm.hpp"

namespace globemeet::server::auth {

std::string_view to_string(algorithm alg) noexcept {
  switch (alg) {
    case algorithm::hs256: return "HS256";
    case algorithm::rs256: return "RS256";
    case algorithm::es256: return "ES256";
  }
  return "unknown";
}

std::optional<algorithm> parse_algorithm(std::string_view name) noexcept {
  if (name == "HS256") return algorithm::hs256;
  if (name == "RS256") return algorithm::rs256;
  if (name == "ES256") return algorithm::es256;
  return std::nullopt;
}

}  // namespace globemeet::server::auth
