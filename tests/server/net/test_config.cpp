#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "config.hpp"

using namespace globemeet::server::net;

namespace {

command parse(std::vector<std::string> args, environment env = {}) { return parse_command_line(args, env); }

server_config config_of(const command& cmd) {
  REQUIRE(std::holds_alternative<run_server>(cmd));
  return std::get<run_server>(cmd).config;
}

std::string error_of(const command& cmd) {
  REQUIRE(std::holds_alternative<usage_error>(cmd));
  return std::get<usage_error>(cmd).message;
}

std::string write_file(const std::string& name, const std::string& text) {
  std::string path = std::string(GLOBEMEET_NET_TEST_DIR) + "/" + name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("defaults match docs/protocol.md", "[config]") {
  const auto c = config_of(parse({"--dev"}));
  CHECK(c.listen_host == "127.0.0.1");
  CHECK(c.threads == 1);
  CHECK(c.audience == "globemeet-events");
  CHECK(c.retention_events == 100000);
  CHECK(c.retention_seconds == 3600);
  CHECK(c.overflow_lag_ms == 5000);
  CHECK(c.auth_timeout_ms == 10000);
  CHECK(c.heartbeat_ms == 20000);
  CHECK(c.token_grace_ms == 30000);
  CHECK(c.max_connections_per_tenant == 10000);
  CHECK(c.max_connections_per_address == 1000);
  CHECK(c.allowed_origins.empty());
}

TEST_CASE("flags: both spellings, switches, lists, ports", "[config]") {
  const auto c = config_of(parse({"--dev", "--listen", "0.0.0.0:0", "--threads=4", "--allowed-origins",
                                   "https://a.example, https://b.example,", "--heartbeat-ms", "250"}));
  CHECK(c.listen_host == "0.0.0.0");
  CHECK(c.listen_port == 0);
  CHECK(c.threads == 4);
  CHECK(c.allowed_origins == std::vector<std::string>{"https://a.example", "https://b.example"});
  CHECK(c.heartbeat_ms == 250);
  CHECK(config_of(parse({"--dev", "--listen", "[::1]:8080"})).listen_host == "::1");
}

TEST_CASE("bad flags are usage errors naming the flag", "[config]") {
  CHECK(error_of(parse({"--dev", "--threads", "0"})).find("--threads: must be between 1") != std::string::npos);
  CHECK(error_of(parse({"--dev", "--threads", "two"})).find("expected an integer") != std::string::npos);
  CHECK(error_of(parse({"--dev", "--listen", "nohost"})).find("HOST:PORT") != std::string::npos);
  CHECK(error_of(parse({"--dev", "--listen", "h:70000"})).find("port") != std::string::npos);
  CHECK(error_of(parse({"--frobnicate"})).find("unknown option --frobnicate") != std::string::npos);
  CHECK(error_of(parse({"--dev", "--issuer"})).find("--issuer needs ISS") != std::string::npos);
  CHECK(error_of(parse({"stray"})).find("unexpected argument") != std::string::npos);
}

TEST_CASE("production needs TLS and a way to verify tokens", "[config]") {
  CHECK(error_of(parse({})).find("TLS is required") != std::string::npos);
  CHECK(error_of(parse({"--tls-cert", "c.pem"})).find("go together") != std::string::npos);
  CHECK(error_of(parse({"--tls-cert", "c.pem", "--tls-key", "k.pem"})).find("verify tokens") != std::string::npos);
  CHECK(std::holds_alternative<run_server>(parse({"--tls-cert", "c.pem", "--tls-key", "k.pem", "--jwks", "j.json"})));
}

TEST_CASE("sources: file < environment < flags", "[config]") {
  auto file = write_file("cfg.json", R"({"threads":2,"heartbeat_ms":100,"issuer":"file","dev":true,
                                          "allowed_origins":["https://x.example"]})");
  environment env{{"GLOBEMEET_HEARTBEAT_MS", "200"}, {"GLOBEMEET_ISSUER", "env"}, {"OTHER", "ignored"}};
  const auto c = config_of(parse({"--config", file, "--issuer", "flag"}, env));
  CHECK(c.threads == 2);
  CHECK(c.heartbeat_ms == 200);
  CHECK(c.issuer == "flag");
  CHECK(c.dev);
  CHECK(c.allowed_origins == std::vector<std::string>{"https://x.example"});
  env["GLOBEMEET_CONFIG"] = file;
  CHECK(config_of(parse({}, env)).threads == 2);
}

TEST_CASE("config file errors name the file and key", "[config]") {
  CHECK(error_of(parse({"--config", "/nonexistent/x.json"})).find("cannot read") != std::string::npos);
  auto bad_json = write_file("bad.json", "{");
  CHECK(error_of(parse({"--config", bad_json})).find("one JSON object") != std::string::npos);
  auto unknown = write_file("unknown.json", R"({"dev":true,"colour":"blue"})");
  CHECK(error_of(parse({"--config", unknown})).find("unknown key 'colour'") != std::string::npos);
  auto wrong = write_file("wrong.json", R"({"dev":true,"threads":[1]})");
  CHECK(error_of(parse({"--config", wrong})).find("'threads' has the wrong type") != std::string::npos);
  CHECK(error_of(parse({"--dev"}, {{"GLOBEMEET_THREADS", "x"}})).find("GLOBEMEET_THREADS") != std::string::npos);
}

TEST_CASE("help and hash-secret", "[config]") {
  CHECK(std::holds_alternative<show_help>(parse({"--dev", "--help"})));
  CHECK(std::holds_alternative<hash_secret>(parse({"hash-secret"})));
  CHECK(std::holds_alternative<usage_error>(parse({"hash-secret", "extra"})));
  auto text = help_text();
  for (const char* flag : {"--listen", "--tls-cert", "--threads", "--jwks", "--hs256-secret-file", "--signing-key",
                           "--clients", "--allowed-origins", "--retention-events", "--overflow-lag-ms", "--dev"})
    CHECK(text.find(flag) != std::string::npos);
}

TEST_CASE("the jetstream log: --nats, replicas and stream from flags, environment and file", "[config]") {
  auto c = config_of(parse({"--dev", "--log", "jetstream", "--nats", "nats://a:4222, nats://b:4222", "--nats-replicas", "3"}));
  CHECK(effective_log_backend(c) == "jetstream");
  CHECK(c.nats_urls == std::vector<std::string>{"nats://a:4222", "nats://b:4222"});
  CHECK(c.nats_replicas == 3);
  CHECK(c.nats_stream == "GLOBEMEET");

  c = config_of(parse({"--dev"}, {{"GLOBEMEET_LOG", "jetstream"}, {"GLOBEMEET_NATS", "nats://e:4222"},
                                  {"GLOBEMEET_NATS_STREAM", "EVENTS_1"}}));
  CHECK(c.nats_urls == std::vector<std::string>{"nats://e:4222"});
  CHECK(c.nats_stream == "EVENTS_1");

  const auto file = write_file("nats.json", R"({"dev":true,"log":"jetstream","nats":["nats://f:4222","nats://g:4222"],"nats_replicas":5})");
  c = config_of(parse({"--config", file}));
  CHECK(c.nats_urls.size() == 2);
  CHECK(c.nats_replicas == 5);

  CHECK(error_of(parse({"--dev", "--log", "jetstream"})).find("--log jetstream needs --nats") != std::string::npos);
  CHECK(error_of(parse({"--dev", "--nats", "nats://a:4222"})).find("--nats is for --log jetstream") != std::string::npos);
  CHECK(error_of(parse({"--dev", "--log", "jetstream", "--nats", "http://a"})).find("--nats: expected nats://") != std::string::npos);
  CHECK(error_of(parse({"--dev", "--log", "jetstream", "--nats", "nats://a:1", "--nats-replicas", "7"})).find("--nats-replicas") != std::string::npos);
  CHECK(error_of(parse({"--dev", "--log", "jetstream", "--nats", "nats://a:1", "--nats-stream", "a.b"})).find("--nats-stream") != std::string::npos);
  CHECK(error_of(parse({"--dev", "--log", "kafka"})).find("expected disk, memory or jetstream") != std::string::npos);
}
