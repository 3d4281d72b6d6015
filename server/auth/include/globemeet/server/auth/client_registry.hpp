// The OAuth clients allowed to obtain tokens (RFC 6749 section 2): who they are, how their
// secret is checked, and what their tokens may carry.
#pragma once
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "globemeet/core/result.hpp"

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

 private:
  std::map<std::string, client, std::less<>> clients_;
};

// The tenant rule shared by clients and tokens: 1 to 64 characters of `A-Z a-z 0-9 _ -`
// (the tenant appears in event `source` paths, so it must be one safe path segment).
bool is_valid_tenant(std::string_view tenant) noexcept;

}  // namespace globemeet::server::auth
