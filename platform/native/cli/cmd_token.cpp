// `globemeet token`: the client-credentials grant, the JWT on stdout.
#include <cstdio>

#include "cli_common.hpp"

namespace globemeet::cli {

namespace {
constexpr const char* token_usage =
    "usage: globemeet token --client-id ID --client-secret SECRET [options]\n"
    "\n"
    "Requests a token with the OAuth 2.0 client-credentials grant (POST /oauth/token, HTTP Basic\n"
    "authentication) and prints the JWT on stdout.\n"
    "\n";
}

int run_token(std::vector<std::string> args) {
  connection_settings settings;
  argument_scanner scanner(std::move(args));
  while (auto arg = scanner.next()) {
    if (*arg == "--help" || *arg == "-h") {
      std::printf("%s%s", token_usage, common_flags_help);
      return exit_ok;
    }
    if (!take_common_flag(scanner, *arg, settings)) throw usage_error("token: unknown argument '" + *arg + "'");
  }
  finish_settings(settings);
  if (!settings.has_client_credentials())
    throw usage_error("token: needs --client-id and --client-secret (or GLOBEMEET_CLIENT_ID/GLOBEMEET_CLIENT_SECRET)");
  const std::string token = fetch_token(settings);
  std::printf("%s\n", token.c_str());
  return exit_ok;
}

}  // namespace globemeet::cli
