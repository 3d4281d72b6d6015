// globemeet-server: parse the command line, then run the server or the hash-secret tool.
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "config.hpp"
#include "logger.hpp"
#include "server.hpp"
#include "server_state.hpp"
#include "globemeet/server/auth/secret_hash.hpp"

extern char** environ;

namespace {

using namespace globemeet::server::net;

constexpr int exit_usage = 2;

environment process_environment() {
  environment env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    if (entry.rfind("GLOBEMEET_", 0) != 0) continue;
    auto eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return env;
}

int run_hash_secret() {
  std::string secret((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.empty()) {
    std::cerr << "globemeet-server hash-secret: give the secret on stdin\n";
    return exit_usage;
  }
  auto hash = globemeet::server::auth::hash_secret(secret);
  if (!hash) {
    std::cerr << "globemeet-server hash-secret: " << hash.err().message << "\n";
    return 1;
  }
  std::cout << hash.value() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  command cmd = parse_command_line(args, process_environment());
  if (auto* err = std::get_if<usage_error>(&cmd)) {
    std::cerr << "globemeet-server: " << err->message << "\n(see globemeet-server --help)\n";
    return exit_usage;
  }
  if (std::holds_alternative<show_help>(cmd)) {
    std::cout << help_text();
    return 0;
  }
  if (std::holds_alternative<hash_secret>(cmd)) return run_hash_secret();

  const auto& config = std::get<run_server>(cmd).config;
  std::string error_message;
  auto state = make_server_state(config, error_message);
  if (!state) {
    logger::error("startup_failed", {{"error", error_message}});
    std::cerr << "globemeet-server: " << error_message << "\n";
    return exit_usage;
  }
  return run_server_until_signalled(std::move(state));
}
