// Counts open WebSocket connections per tenant and per client address, so that one tenant or
// one host cannot take the whole server (docs/protocol.md section 10). Thread-safe.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace globemeet::server::net {

class connection_limits {
 public:
  connection_limits(std::uint64_t per_tenant, std::uint64_t per_address)
      : per_tenant_(per_tenant), per_address_(per_address) {}

  // Takes one slot; false (nothing taken) when the limit is reached.
  bool acquire_address(std::string_view address);
  void release_address(std::string_view address);
  bool acquire_tenant(std::string_view tenant);
  void release_tenant(std::string_view tenant);

 private:
  static bool acquire(std::unordered_map<std::string, std::uint64_t>& counts, std::string_view key,
                      std::uint64_t limit);
  static void release(std::unordered_map<std::string, std::uint64_t>& counts, std::string_view key);

  std::mutex mutex_;
  std::uint64_t per_tenant_;
  std::uint64_t per_address_;
  std::unordered_map<std::string, std::uint64_t> tenants_;
  std::unordered_map<std::string, std::uint64_t> addresses_;
};

}  // namespace globemeet::server::net
