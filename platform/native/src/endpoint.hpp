// Splits a ws://, wss://, http:// or https:// URL into what a connection needs.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace globemeet::detail {

struct endpoint {
  bool tls = false;
  std::string host;    // without brackets for IPv6 literals
  std::string port;    // always set (default 80 or 443)
  std::string target;  // path and query, at least "/"
  bool default_port = true;

  // The Host header value: host, bracketed for IPv6, with the port when it is not the default.
  std::string host_header() const;
  // True when `host` is an IPv4 or IPv6 literal (no SNI is sent for those).
  bool host_is_ip() const;
};

// Accepts ws/wss when `websocket` is true, http/https otherwise. nullopt for anything else
// (other schemes, empty host, bad port, user info).
std::optional<endpoint> parse_endpoint(std::string_view url, bool websocket);

}  // namespace globemeet::detail
