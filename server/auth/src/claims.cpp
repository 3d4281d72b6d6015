#include "globemeet/server/auth/claims.hpp"

namespace globemeet::server::auth {

bool is_valid_tenant(std::string_view tenant) noexcept {
  if (tenant.empty() || tenant.size() > 64) return false;
  for (const char c : tenant) {
    const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!allowed) return false;
  }
  return true;
}

}  // namespace globemeet::server::auth
