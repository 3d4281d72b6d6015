// A small HTTP/1.1 client for the token request (token.cpp) and the CLI's publishes: every step
// bounded by a timeout, the same TLS settings as the event socket. One http_connection keeps its
// connection alive across requests, so a run of publishes pays one TCP (and TLS) handshake.
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "endpoint.hpp"

namespace globemeet::detail {

struct http_request {
  std::string method = "GET";
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct http_response {
  unsigned status = 0;
  std::string body;
};

// Not thread-safe: one caller at a time. Errors are std::runtime_error with a one-line message
// (cannot connect, TLS failure, timeout); after one the next send() opens a new connection.
class http_connection {
 public:
  // Throws std::runtime_error when `ca_file` cannot be loaded (https only).
  http_connection(endpoint server, std::string ca_file, std::chrono::milliseconds timeout);
  ~http_connection();
  http_connection(const http_connection&) = delete;
  http_connection& operator=(const http_connection&) = delete;

  // Sends on the open connection, opening one when there is none. When a reused connection
  // turns out closed by the server (its idle timeout) before any byte of an answer arrived, the
  // request is sent once more on a new connection: the server never saw it, so nothing is
  // stored twice.
  http_response send(const http_request& request);

  // How many connections were opened so far (a keep-alive check for tests).
  unsigned connections_opened() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// One request on a connection of its own.
http_response send_http(const endpoint& server, const http_request& request, const std::string& ca_file,
                        std::chrono::milliseconds timeout);

// `base` (the server URL's path) joined with an absolute API path, without a doubled slash.
std::string join_target(const std::string& base, const std::string& path);

}  // namespace globemeet::detail
