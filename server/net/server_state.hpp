// Everything the connections and routes of one server share: the settings, the event log and
// its fan-out, token verification and issuing, metrics, limits and the draining flag. Built
// once at startup from the config (loading key and client files); immutable afterwards except
// for the atomics and the thread-safe members.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "config.hpp"
#include "connection_limits.hpp"
#include "data_dir.hpp"
#include "hub.hpp"
#include "metrics.hpp"
#include "globemeet/server/auth/client_registry.hpp"
#include "globemeet/server/auth/signer.hpp"
#include "globemeet/server/auth/token_endpoint.hpp"
#include "globemeet/server/auth/verifier.hpp"
#include "globemeet/server/log/event_log.hpp"

namespace globemeet::server::net {

class readiness_poller;

struct server_state {
  server_config config;
  std::unique_ptr<data_dir> data;  // with --data-dir; outlives the log that lives in it
  std::unique_ptr<log::event_log> log;
  std::unique_ptr<hub> fan_out;
  std::unique_ptr<auth::signer> token_signer;
  auth::client_registry clients;
  std::unique_ptr<auth::token_endpoint> tokens;
  std::unique_ptr<auth::verifier> tokens_verifier;
  std::string jwks_json;  // served at /.well-known/jwks.json
  metrics stats;
  connection_limits limits;
  std::atomic<bool> draining{false};
  std::atomic<std::uint64_t> next_connection_id{1};
  readiness_poller* poller = nullptr;  // plain-TCP WebSocket readiness; set by the running server

  explicit server_state(server_config c)
      : config(std::move(c)), limits(config.max_connections_per_tenant, config.max_connections_per_address) {}
};

// Loads keys, clients and the log from `config`; the error message is for the operator.
// In --dev mode it creates the dev HS256 secret and OAuth client and logs them. With a data
// directory, the signing key (and in --dev the dev secrets) are made there once and reused.
std::unique_ptr<server_state> make_server_state(const server_config& config, std::string& error_message);

// Wall clock in Unix milliseconds and seconds (token times and event times are wall clock).
std::int64_t unix_now_ms();
std::int64_t unix_now_us();
inline std::int64_t unix_now_s() { return unix_now_ms() / 1000; }
// Steady clock in microseconds: queue ages, deadlines and the lag limit.
std::int64_t steady_now_us();

}  // namespace globemeet::server::net
