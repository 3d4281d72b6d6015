// The server's settings and where they come from: defaults, then a JSON config file
// (--config FILE or GLOBEMEET_CONFIG), then GLOBEMEET_* environment variables, then flags.
// Later sources win. Parsing is pure (no I/O besides reading the named config file) so that
// the CLI's messages can be unit-tested.
#pragma once
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace globemeet::server::net {

struct server_config {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  std::string tls_cert;  // PEM files; both or neither
  std::string tls_key;
  unsigned threads = 1;

  std::string issuer = "globemeet";
  std::string audience = "globemeet-events";
  std::string jwks_file;          // verification keys (public JWKS)
  std::string hs256_secret_file;  // development only
  std::string signing_key_file;   // PEM private key for POST /oauth/token; empty: ephemeral ES256
  std::string clients_file;       // OAuth clients JSON
  std::vector<std::string> allowed_origins;  // empty: only handshakes without Origin

  // Where the event log lives: "disk" (SQLite in data_dir, durable), "memory" (lost at
  // restart; for tests and benchmarks) or "jetstream" (a NATS JetStream stream shared by every
  // node of a cluster). Empty: disk when data_dir is set, memory otherwise.
  std::string log_backend;
  std::vector<std::string> nats_urls;  // jetstream: nats://host:port of the NATS cluster's nodes
  std::int64_t nats_replicas = 1;      // jetstream: the stream's replicas
  std::string nats_stream = "GLOBEMEET";
  // jetstream: how this node authenticates to NATS (at most one way) and which CA verifies the
  // NATS servers' TLS certificates. Secrets are read from files, never given on the command line.
  std::string nats_creds;          // a NATS credentials file (user JWT and NKey seed)
  std::string nats_user;           // with nats_password_file
  std::string nats_password_file;
  std::string nats_token_file;
  std::string nats_ca;             // PEM CA certificates; makes the connection TLS
  std::string data_dir;        // the durable log, and the keys this server creates once
  bool fsync = true;           // disk log: acknowledge a publish only after fsync
  std::uint64_t memory_events = 100'000;  // disk log: newest events also kept in memory
  std::uint64_t retention_events = 100'000;
  std::int64_t retention_seconds = 3600;
  std::uint64_t snapshot_topics = 10'000;  // per tenant in the last-value cache (snapshots)
  std::int64_t overflow_lag_ms = 5000;
  std::uint64_t max_queue_bytes = 8u << 20;  // per connection, besides the lag limit
  std::int64_t auth_timeout_ms = 10'000;
  std::int64_t heartbeat_ms = 20'000;
  std::int64_t token_grace_ms = 30'000;
  std::int64_t token_ttl_seconds = 900;  // tokens issued by POST /oauth/token
  std::uint64_t max_connections_per_tenant = 10'000;
  std::uint64_t max_connections_per_address = 1'000;
  std::int64_t drain_ms = 2000;              // bounded drain at shutdown
  std::int64_t reconnect_after_ms = 1000;    // told to clients in `closing`
  bool dev = false;  // plain ws allowed, dev HS256 secret and a dev OAuth client
};

// How often each WebSocket session's deadlines are checked: a quarter of the shortest of them,
// between 10 ms and 1 s, which bounds how late one can be noticed.
inline std::int64_t session_tick_ms(const server_config& c) {
  const std::int64_t shortest = std::min({c.overflow_lag_ms, c.heartbeat_ms, c.auth_timeout_ms});
  return std::clamp<std::int64_t>(shortest / 4, 10, 1000);
}

// The log backend in effect: log_backend, or its default.
inline std::string effective_log_backend(const server_config& c) {
  if (!c.log_backend.empty()) return c.log_backend;
  return c.data_dir.empty() ? "memory" : "disk";
}

// What the command line asked for.
struct run_server { server_config config; };
struct show_help {};
struct hash_secret {};  // `globemeet-server hash-secret`: reads stdin, prints the hash
struct usage_error { std::string message; };  // exit code 2

using command = std::variant<run_server, show_help, hash_secret, usage_error>;

using environment = std::map<std::string, std::string>;

// `args` excludes argv[0]. `env` holds the process environment (only GLOBEMEET_* is read).
command parse_command_line(const std::vector<std::string>& args, const environment& env);

// Applies a config file's text (one JSON object) to `config`; `path` names it in the message.
std::optional<std::string> apply_config_text(server_config& config, std::string_view text, const std::string& path);

// Checks that do not depend on the source of a value (e.g. TLS cert without key).
std::optional<std::string> validate(const server_config& config);

std::string help_text();

}  // namespace globemeet::server::net
