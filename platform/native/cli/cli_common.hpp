// What every `globemeet` command shares: the connection settings (flags or environment),
// argument scanning, the OAuth client-credentials request, and exit codes.
#pragma once
#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "endpoint.hpp"
#include "globemeet/token.hpp"

namespace globemeet::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;

// Where globemeet-server listens when started without --listen (server/net/config.hpp).
inline constexpr const char* default_server_url = "http://127.0.0.1:8080";

// Bad command-line input: printed with a hint to --help, exit 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A failure at run time (server unreachable, refused credentials, TLS): exit 1.
struct runtime_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct connection_settings {
  detail::endpoint server;       // http:// or https:// base
  std::string server_url;
  std::string token;             // --token / GLOBEMEET_TOKEN
  std::string client_id;         // --client-id / GLOBEMEET_CLIENT_ID
  std::string client_secret;     // --client-secret / GLOBEMEET_CLIENT_SECRET
  std::string ca_file;           // --ca / GLOBEMEET_CA
  std::string scope;             // --scope (token requests)
  std::chrono::milliseconds timeout{10'000};

  // ws:// or wss:// URL of the event socket under the server's base path.
  std::string events_url() const;
  bool has_client_credentials() const { return !client_id.empty(); }
  // For the library's token helper (globemeet/token.hpp).
  ClientCredentials credentials() const;
};

// Walks argv, consuming the shared flags into `settings` and handing every other argument to
// `other(arg, next_value)`, which returns how many values it consumed (0 or 1) or throws
// usage_error. `--flag=value` is accepted for every flag that takes a value.
class argument_scanner {
 public:
  argument_scanner(std::vector<std::string> args) : args_(std::move(args)) {}
  // Returns the next argument, or nullopt at the end.
  std::optional<std::string> next();
  // The value of the flag just returned by next(); throws usage_error when there is none.
  std::string value();
  const std::string& flag() const { return flag_; }

 private:
  std::vector<std::string> args_;
  std::size_t pos_ = 0;
  std::string flag_;
  std::optional<std::string> inline_value_;
};

// Handles one of the shared flags (--server, --token, --client-id, --client-secret, --ca,
// --scope, --timeout); false when `flag` is not one of them.
bool take_common_flag(argument_scanner& scanner, const std::string& flag, connection_settings& settings);
// Fills what flags left empty from GLOBEMEET_* and checks the server URL.
void finish_settings(connection_settings& settings);
extern const char* const common_flags_help;

// OAuth 2.0 client credentials (globemeet::fetch_token); returns the access token.
// Throws runtime_failure with the server's error (bad credentials, unreachable, TLS).
std::string fetch_token(const connection_settings& settings);
// The token to use: --token, or one fetched with the client credentials. Throws usage_error
// when neither is configured.
std::string obtain_token(const connection_settings& settings);

std::optional<long long> parse_count(std::string_view text);

int run_token(std::vector<std::string> args);
int run_sub(std::vector<std::string> args);
int run_pub(std::vector<std::string> args);

}  // namespace globemeet::cli
