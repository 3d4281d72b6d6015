#include "endpoint.hpp"

#include <algorithm>
#include <cctype>

#include <boost/asio/ip/address.hpp>

namespace globemeet::detail {

std::string endpoint::host_header() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (!default_port) h += ":" + port;
  return h;
}

bool endpoint::host_is_ip() const {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec;
}

std::optional<endpoint> parse_endpoint(std::string_view url, bool websocket) {
  endpoint ep;
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  std::string scheme(url.substr(0, scheme_end));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme == (websocket ? "wss" : "https")) ep.tls = true;
  else if (scheme != (websocket ? "ws" : "http")) return std::nullopt;

  std::string_view rest = url.substr(scheme_end + 3);
  const auto path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view target = path_start == std::string_view::npos ? std::string_view("/") : rest.substr(path_start);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  if (const auto fragment = target.find('#'); fragment != std::string_view::npos) target = target.substr(0, fragment);
  ep.target = target.empty() || target.front() != '/' ? "/" + std::string(target) : std::string(target);

  std::string_view port;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    ep.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    ep.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (ep.host.empty()) return std::nullopt;
  if (port.empty()) {
    ep.port = ep.tls ? "443" : "80";
  } else {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    const int n = std::stoi(std::string(port));
    if (n < 1 || n > 65535) return std::nullopt;
    ep.port = std::to_string(n);
    ep.default_port = ep.port == (ep.tls ? "443" : "80");
  }
  return ep;
}

}  // namespace globemeet::detail
