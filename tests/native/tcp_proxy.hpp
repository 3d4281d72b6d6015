// Test support: a loopback TCP proxy in front of a live server, so a test can cut a client's
// connection the way a network failure would (a reset, no close frame) while the server keeps
// running, and keep the client out until the test has done what it wants meanwhile.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace globemeet::test {

class tcp_proxy {
 public:
  explicit tcp_proxy(std::uint16_t target_port);
  ~tcp_proxy();
  tcp_proxy(const tcp_proxy&) = delete;
  tcp_proxy& operator=(const tcp_proxy&) = delete;

  std::uint16_t port() const;
  std::string ws_url() const { return "ws://127.0.0.1:" + std::to_string(port()) + "/v1/events"; }

  // Resets every open connection. Until release(), new connections are reset at once too: the
  // client keeps retrying and cannot come back before the test lets it.
  void cut_and_hold();
  void release();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace globemeet::test
