// `globemeet`: get a token, subscribe to events, publish events (docs/client.md).
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli_common.hpp"

namespace {

constexpr const char* usage =
    "globemeet: command-line client of GlobeMeet Events\n"
    "\n"
    "usage: globemeet token [options]          print a token (OAuth client credentials)\n"
    "       globemeet sub [options] PATTERN... print matching events as JSON lines\n"
    "       globemeet pub [options]            publish events, print their ids\n"
    "\n"
    "`globemeet COMMAND --help` describes each command.\n"
    "exit codes: 0 ok, 1 runtime failure, 2 usage error\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace globemeet::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fputs(usage, stderr);
    return exit_usage;
  }
  const std::string command = args.front();
  args.erase(args.begin());
  try {
    if (command == "--help" || command == "-h" || command == "help") {
      std::fputs(usage, stdout);
      return exit_ok;
    }
    if (command == "token") return run_token(std::move(args));
    if (command == "sub") return run_sub(std::move(args));
    if (command == "pub") return run_pub(std::move(args));
    throw usage_error("unknown command '" + command + "'");
  } catch (const usage_error& e) {
    std::fprintf(stderr, "globemeet: %s (see globemeet --help)\n", e.what());
    return exit_usage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "globemeet: %s\n", e.what());
    return exit_failure;
  }
}
