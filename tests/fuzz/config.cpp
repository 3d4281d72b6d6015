// The server's configuration (server/net config): the config file's text, then the command
// line. The input is "<config file>\n\x00" (optional) then one argument per line; a line
// "=NAME=value" is an environment variable instead (GLOBEMEET_ is prepended to NAME). --config
// and GLOBEMEET_CONFIG are left out: no file is read.
// Checks: what is accepted from the file, the environment or the flags keeps every setting
// within its documented range (threads 1-256, ports, replicas 1-5, ...); applying the same file
// twice changes nothing more; the command line is a usage error with a message, help only when
// asked for, hash-secret only alone, or a config that validate() accepts.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "config.hpp"

namespace net = globemeet::server::net;

namespace {

void check_ranges(const net::server_config& c) {
  FUZZ_CHECK(c.threads >= 1 && c.threads <= 256);
  FUZZ_CHECK(c.nats_replicas >= 1 && c.nats_replicas <= 5);
  FUZZ_CHECK(c.token_ttl_seconds >= 1 && c.token_ttl_seconds <= 86'400);
  FUZZ_CHECK(c.heartbeat_ms >= 10);
  FUZZ_CHECK(c.max_queue_bytes >= 1024);
  FUZZ_CHECK(c.memory_events >= 1 && c.retention_events >= 1 && c.retention_seconds >= 1);
  FUZZ_CHECK(c.overflow_lag_ms >= 1 && c.auth_timeout_ms >= 1);
  FUZZ_CHECK(c.token_grace_ms >= 0 && c.drain_ms >= 0 && c.reconnect_after_ms >= 0);
  FUZZ_CHECK(c.max_connections_per_tenant >= 1 && c.max_connections_per_address >= 1);
  FUZZ_CHECK(c.log_backend.empty() || c.log_backend == "disk" || c.log_backend == "memory" || c.log_backend == "jetstream");
  FUZZ_CHECK(!c.nats_stream.empty() && c.nats_stream.size() <= 64);
  FUZZ_CHECK(c.nats_stream.find_first_of(".*> ") == std::string::npos);
  for (const auto& url : c.nats_urls) FUZZ_CHECK(url.starts_with("nats://") || url.starts_with("tls://"));
  for (const auto& origin : c.allowed_origins)
    FUZZ_CHECK(!origin.empty() && origin.front() != ' ' && origin.back() != ' ' && origin.find(',') == std::string::npos);
  const std::int64_t tick = net::session_tick_ms(c);
  FUZZ_CHECK(tick >= 10 && tick <= 1000);
}

bool same(const net::server_config& a, const net::server_config& b) {
  return a.listen_host == b.listen_host && a.listen_port == b.listen_port && a.tls_cert == b.tls_cert &&
         a.tls_key == b.tls_key && a.threads == b.threads && a.issuer == b.issuer && a.audience == b.audience &&
         a.jwks_file == b.jwks_file && a.hs256_secret_file == b.hs256_secret_file &&
         a.signing_key_file == b.signing_key_file && a.clients_file == b.clients_file &&
         a.allowed_origins == b.allowed_origins && a.log_backend == b.log_backend && a.nats_urls == b.nats_urls &&
         a.nats_replicas == b.nats_replicas && a.nats_stream == b.nats_stream && a.data_dir == b.data_dir &&
         a.fsync == b.fsync && a.memory_events == b.memory_events && a.retention_events == b.retention_events &&
         a.retention_seconds == b.retention_seconds && a.overflow_lag_ms == b.overflow_lag_ms &&
         a.max_queue_bytes == b.max_queue_bytes && a.auth_timeout_ms == b.auth_timeout_ms &&
         a.heartbeat_ms == b.heartbeat_ms && a.token_grace_ms == b.token_grace_ms &&
         a.token_ttl_seconds == b.token_ttl_seconds && a.max_connections_per_tenant == b.max_connections_per_tenant &&
         a.max_connections_per_address == b.max_connections_per_address && a.drain_ms == b.drain_ms &&
         a.reconnect_after_ms == b.reconnect_after_ms && a.dev == b.dev;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  if (const auto end = rest.find(std::string_view("\n\0", 2)); end != std::string_view::npos) {
    const std::string_view file = rest.substr(0, end);
    rest.remove_prefix(end + 2);
    net::server_config once;
    if (const auto err = net::apply_config_text(once, file, "fuzz.json")) {
      FUZZ_CHECK(err->starts_with("config file fuzz.json: "));
    } else {
      check_ranges(once);
      net::server_config twice = once;
      FUZZ_CHECK(!net::apply_config_text(twice, file, "fuzz.json"));
      FUZZ_CHECK(same(once, twice));
    }
  }

  std::vector<std::string> args;
  net::environment env;
  while (!rest.empty() && args.size() < 64) {
    const auto newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);
    if (line.starts_with('=') && line.find('=', 1) != std::string_view::npos) {
      const auto eq = line.find('=', 1);
      env["GLOBEMEET_" + std::string(line.substr(1, eq - 1))] = std::string(line.substr(eq + 1));
    } else if (!line.starts_with("--config")) {  // no file reads (a FIFO would block): the file's part is above
      args.emplace_back(line);
    }
  }
  env.erase("GLOBEMEET_CONFIG");

  const net::command command = net::parse_command_line(args, env);
  bool asked_help = false;
  for (const auto& a : args) asked_help = asked_help || a == "--help" || a == "-h";
  if (const auto* error = std::get_if<net::usage_error>(&command)) {
    FUZZ_CHECK(!error->message.empty());
  } else if (std::holds_alternative<net::show_help>(command)) {
    FUZZ_CHECK(asked_help);
  } else if (std::holds_alternative<net::hash_secret>(command)) {
    FUZZ_CHECK(args.size() == 1 && args[0] == "hash-secret");
  } else {
    const auto& config = std::get<net::run_server>(command).config;
    FUZZ_CHECK(!asked_help);
    FUZZ_CHECK(!net::validate(config));
    check_ranges(config);
  }
  return 0;
}
