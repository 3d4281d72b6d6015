// The claims of a GlobeMeet access token (docs/protocol.md section 6), as the verifier
// returns them after every check passed, and as the signer writes them.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace globemeet::server::auth {

struct claims {
  std::string sub;                 // the client or user
  std::string tenant;              // whose events the holder sees
  std::vector<std::string> perms;  // topic patterns the holder may subscribe to (each valid)
  bool pub = false;                // true for services allowed to POST /v1/events
  std::int64_t exp = 0;            // Unix seconds
  std::int64_t iat = 0;            // Unix seconds
  std::optional<std::int64_t> nbf; // Unix seconds
  std::string iss;
  std::vector<std::string> aud;    // one or more audiences (a token's string `aud` is one entry)
  friend bool operator==(const claims&, const claims&) = default;
};

// The tenant rule shared by tokens and OAuth clients: 1 to 64 characters of `A-Z a-z 0-9 _ -`
// (the tenant appears in event `source` paths, so it must be one safe path segment).
bool is_valid_tenant(std::string_view tenant) noexcept;

}  // namespace globemeet::server::auth
