// The OAuth clients allowed to obtain tokens (RFC 6749 section 2): who they are, how their
// secret is checked, and what their tokens may carry.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "globemeet/core/result.hpp"
#include "globemeet/server/auth/claims.hpp"

namespace globemeet::server::auth {

struct client {
  std::string client_id;
  std::string secret_hash;         // see secret_hash.hpp
  std::string tenant;
  std::vector<std::string> perms;  // topic patterns, each valid
  bool publish = false;            // becomes the token's `pub` claim
};

class client_registry {
 public:
  client_registry() = default;

  // Parses {"clients":[{"client_id","secret_hash","tenant","perms":[...],"publish"?}]}
  // (strict JSON). Errors have code "invalid_config" and name the entry.
  static core::result<client_registry> from_json(std::string_view json);

  // Adds a client after checking it: non-empty client_id without control characters and not
  // already present, a well-formed secret_hash, a tenant of 1 to 64 characters of
  // `A-Z a-z 0-9 _ -`, valid topic patterns. Code "invalid_config" otherwise.
  std::optional<core::error> add(client c);

  const client* find(std::string_view client_id) const;
  std::size_t size() const noexcept { return clients_.size(); }
  // The highest PBKDF2 iteration count among the clients (0 when empty): the token endpoint
  // spends that much on an unknown client_id too, so response time does not reveal which
  // client ids exist.
  std::uint32_t max_iterations() const noexcept { return max_iterations_; }

 private:
  std::map<std::string, client, std::less<>> clients_;
  std::uint32_t max_iterations_ = 0;
};

}  // namespace globemeet::server::auth
