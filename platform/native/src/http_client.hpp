// A small HTTPS/HTTP client for the CLI's token and publish requests: one request per
// connection, every step bounded by a timeout, the same TLS settings as the event socket.
#pragma once
#include <chrono>
#include <string>
#include <vector>
#include <utility>

#include "endpoint.hpp"

namespace globemeet::cli {

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

// Throws std::runtime_error with a one-line message (cannot connect, TLS failure, timeout).
http_response send_http(const detail::endpoint& server, const http_request& request, const std::string& ca_file,
                        std::chrono::milliseconds timeout);

}  // namespace globemeet::cli
