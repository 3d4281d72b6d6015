// Test support: runs the real globemeet-server binary (port 0, development mode, an HS256
// secret of the test's choosing), mints HS256 tokens for it, and publishes events over HTTP.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <sys/types.h>

namespace globemeet::test {

struct token_claims {
  std::string sub = "native-test";
  std::string tenant = "acme";
  std::vector<std::string> perms = {">"};
  bool pub = false;
  std::int64_t lifetime_s = 900;
};

class live_server {
 public:
  explicit live_server(std::vector<std::string> extra_args = {});
  ~live_server();
  live_server(const live_server&) = delete;
  live_server& operator=(const live_server&) = delete;

  std::uint16_t port() const { return port_; }
  std::string ws_url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/v1/events"; }
  std::string http_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The development OAuth client the server made at start (its `dev_credentials` log line).
  const std::string& client_id() const { return client_id_; }
  const std::string& client_secret() const { return client_secret_; }
  std::string mint(const token_claims& claims = {}) const;
  // POST /v1/events with {"events":[...]} of depth events on `queue`; returns the ids.
  std::vector<std::string> publish_depth(const std::string& queue, int count) const;

 private:
  std::string dir_;
  std::string secret_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::uint16_t port_ = 0;
  std::string client_id_;
  std::string client_secret_;
};

}  // namespace globemeet::test
