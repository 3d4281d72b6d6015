#include "connection_limits.hpp"

namespace globemeet::server::net {

bool connection_limits::acquire(std::unordered_map<std::string, std::uint64_t>& counts, std::string_view key,
                                std::uint64_t limit) {
  auto& count = counts[std::string(key)];
  if (count >= limit) {
    if (count == 0) counts.erase(std::string(key));
    return false;
  }
  ++count;
  return true;
}

void connection_limits::release(std::unordered_map<std::string, std::uint64_t>& counts, std::string_view key) {
  auto it = counts.find(std::string(key));
  if (it == counts.end()) return;
  if (--it->second == 0) counts.erase(it);
}

bool connection_limits::acquire_address(std::string_view address) {
  std::lock_guard lock(mutex_);
  return acquire(addresses_, address, per_address_);
}
void connection_limits::release_address(std::string_view address) {
  std::lock_guard lock(mutex_);
  release(addresses_, address);
}
bool connection_limits::acquire_tenant(std::string_view tenant) {
  std::lock_guard lock(mutex_);
  return acquire(tenants_, tenant, per_tenant_);
}
void connection_limits::release_tenant(std::string_view tenant) {
  std::lock_guard lock(mutex_);
  release(tenants_, tenant);
}

}  // namespace globemeet::server::net
