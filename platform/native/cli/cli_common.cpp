#include "cli_common.hpp"

#include <charconv>
#include <cstdlib>
#include <utility>

#include "globemeet/token.hpp"

namespace globemeet::cli {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

}  // namespace

const char* const common_flags_help =
    "connection (flags win over the environment):\n"
    "  --server URL          http(s)://host:port of the server (GLOBEMEET_SERVER; default http://127.0.0.1:8080)\n"
    "  --token JWT           bearer token (GLOBEMEET_TOKEN)\n"
    "  --client-id ID        OAuth client id: fetch tokens with client credentials (GLOBEMEET_CLIENT_ID)\n"
    "  --client-secret S     OAuth client secret (GLOBEMEET_CLIENT_SECRET)\n"
    "  --scope PATTERNS      space-separated patterns narrowing fetched tokens\n"
    "  --ca FILE             extra PEM CA certificate(s) to trust for https/wss (GLOBEMEET_CA)\n"
    "  --timeout SECONDS     bound on each HTTP request and on the first connection (default 10)\n";

std::string connection_settings::events_url() const {
  std::string base = server.target;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return std::string(server.tls ? "wss://" : "ws://") + server.host_header() + base + "/v1/events";
}

std::optional<std::string> argument_scanner::next() {
  inline_value_.reset();
  if (pos_ >= args_.size()) return std::nullopt;
  std::string arg = args_[pos_++];
  if (arg.starts_with("--")) {
    if (const auto eq = arg.find('='); eq != std::string::npos) {
      inline_value_ = arg.substr(eq + 1);
      arg.resize(eq);
    }
  }
  flag_ = arg;
  return arg;
}

std::string argument_scanner::value() {
  if (inline_value_) return *std::exchange(inline_value_, std::nullopt);
  if (pos_ >= args_.size()) throw usage_error(flag_ + " needs a value");
  return args_[pos_++];
}

bool take_common_flag(argument_scanner& scanner, const std::string& flag, connection_settings& s) {
  if (flag == "--server") s.server_url = scanner.value();
  else if (flag == "--token") s.token = scanner.value();
  else if (flag == "--client-id") s.client_id = scanner.value();
  else if (flag == "--client-secret") s.client_secret = scanner.value();
  else if (flag == "--ca") s.ca_file = scanner.value();
  else if (flag == "--scope") s.scope = scanner.value();
  else if (flag == "--timeout") {
    const std::string v = scanner.value();
    const auto n = parse_count(v);
    if (!n || *n < 1 || *n > 3600) throw usage_error("--timeout must be a whole number of seconds from 1 to 3600, got '" + v + "'");
    s.timeout = std::chrono::seconds(*n);
  } else {
    return false;
  }
  return true;
}

void finish_settings(connection_settings& s) {
  auto fill = [](std::string& field, const char* name) {
    if (field.empty()) field = env(name);
  };
  fill(s.server_url, "GLOBEMEET_SERVER");
  fill(s.token, "GLOBEMEET_TOKEN");
  fill(s.client_id, "GLOBEMEET_CLIENT_ID");
  fill(s.client_secret, "GLOBEMEET_CLIENT_SECRET");
  fill(s.ca_file, "GLOBEMEET_CA");
  // The server's own default listen address (docs/server.md), which scripts/run uses too.
  if (s.server_url.empty()) s.server_url = default_server_url;
  auto ep = detail::parse_endpoint(s.server_url, false);
  if (!ep) throw usage_error("--server must be an http:// or https:// URL, got '" + s.server_url + "'");
  s.server = std::move(*ep);
  if (!s.client_id.empty() && s.client_secret.empty())
    throw usage_error("--client-id needs --client-secret (or GLOBEMEET_CLIENT_SECRET)");
}

ClientCredentials connection_settings::credentials() const {
  return ClientCredentials{.server = server_url, .client_id = client_id, .client_secret = client_secret,
                           .scope = scope, .ca_file = ca_file, .timeout = timeout};
}

std::string fetch_token(const connection_settings& s) {
  try {
    return globemeet::fetch_token(s.credentials()).access_token;
  } catch (const TokenError& e) {
    throw runtime_failure(e.what());
  }
}

std::string obtain_token(const connection_settings& s) {
  if (!s.token.empty()) return s.token;
  if (s.has_client_credentials()) return fetch_token(s);
  throw usage_error("no credentials: give --token (GLOBEMEET_TOKEN) or --client-id and --client-secret");
}

std::optional<long long> parse_count(std::string_view text) {
  long long n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

}  // namespace globemeet::cli
