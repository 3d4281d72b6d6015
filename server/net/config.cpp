#include "config.hpp"

#include <boost/json.hpp>

#include <charconv>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <string_view>

namespace globemeet::server::net {
namespace {

using setter = std::function<std::optional<std::string>(server_config&, std::string_view)>;

struct option {
  std::string_view name;  // flag without "--"; config-file key is the same with '_' for '-'
  std::string_view arg;   // empty for a switch
  std::string_view help;
  setter set;
};

template <class Int>
std::optional<std::string> parse_int(std::string_view text, Int& out, Int min, Int max) {
  Int value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return "expected an integer, got '" + std::string(text) + "'";
  if (value < min || value > max)
    return "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + std::string(text);
  out = value;
  return std::nullopt;
}

template <class Int>
setter int_field(Int server_config::*field, Int min, Int max = std::numeric_limits<Int>::max()) {
  return [=](server_config& c, std::string_view v) { return parse_int(v, c.*field, min, max); };
}

setter string_field(std::string server_config::*field) {
  return [=](server_config& c, std::string_view v) -> std::optional<std::string> {
    if (v.empty()) return "must not be empty";
    c.*field = std::string(v);
    return std::nullopt;
  };
}

std::optional<std::string> parse_bool(std::string_view v, bool& out) {
  if (v == "1" || v == "true" || v == "yes" || v == "on") { out = true; return std::nullopt; }
  if (v == "0" || v == "false" || v == "no" || v == "off") { out = false; return std::nullopt; }
  return "expected true or false, got '" + std::string(v) + "'";
}

std::optional<std::string> parse_listen(server_config& c, std::string_view v) {
  auto colon = v.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return "expected HOST:PORT, got '" + std::string(v) + "'";
  std::string_view host = v.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (auto err = parse_int<std::uint16_t>(v.substr(colon + 1), c.listen_port, 0, 65535)) return "port " + *err;
  c.listen_host = std::string(host);
  return std::nullopt;
}

std::optional<std::string> parse_origins(server_config& c, std::string_view v) {
  c.allowed_origins.clear();
  while (!v.empty()) {
    auto comma = v.find(',');
    std::string_view item = v.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) c.allowed_origins.emplace_back(item);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return std::nullopt;
}

std::optional<std::string> parse_nats_urls(server_config& c, std::string_view v) {
  c.nats_urls.clear();
  while (!v.empty()) {
    auto comma = v.find(',');
    std::string_view item = v.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) {
      if (!item.starts_with("nats://") && !item.starts_with("tls://"))
        return "expected nats://HOST:PORT (or tls://), got '" + std::string(item) + "'";
      c.nats_urls.emplace_back(item);
    }
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  if (c.nats_urls.empty()) return "must name at least one server";
  return std::nullopt;
}

// A JetStream stream name: letters, digits, _ and - (no '.', '*', '>' or spaces).
std::optional<std::string> parse_stream_name(server_config& c, std::string_view v) {
  if (v.empty() || v.size() > 64) return "must be 1 to 64 characters";
  for (char ch : v)
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
      return "may hold only letters, digits, _ and -, got '" + std::string(v) + "'";
  c.nats_stream = std::string(v);
  return std::nullopt;
}

const std::vector<option>& options() {
  static const std::vector<option> table = {
      {"listen", "HOST:PORT", "address to listen on; port 0 picks a free port (default 127.0.0.1:8080)", parse_listen},
      {"tls-cert", "FILE", "PEM certificate chain; with --tls-key serves wss:// with TLS 1.3 only",
       string_field(&server_config::tls_cert)},
      {"tls-key", "FILE", "PEM private key for --tls-cert", string_field(&server_config::tls_key)},
      {"threads", "N", "I/O threads (default 1)", int_field<unsigned>(&server_config::threads, 1, 256)},
      {"issuer", "ISS", "required `iss` of tokens, and the issuer of tokens this server signs (default globemeet)",
       string_field(&server_config::issuer)},
      {"audience", "AUD", "required `aud` of tokens (default globemeet-events)", string_field(&server_config::audience)},
      {"jwks", "FILE", "JWKS file with the public keys that verify tokens (ES256, RS256)",
       string_field(&server_config::jwks_file)},
      {"hs256-secret-file", "FILE", "development: HS256 secret that verifies tokens",
       string_field(&server_config::hs256_secret_file)},
      {"signing-key", "FILE", "PEM private key (EC P-256 or RSA) that signs tokens issued by POST /oauth/token; "
                              "default: an ephemeral ES256 key generated at start",
       string_field(&server_config::signing_key_file)},
      {"clients", "FILE", "OAuth clients JSON (id, secret_hash, tenant, perms, publish)",
       string_field(&server_config::clients_file)},
      {"allowed-origins", "LIST", "comma-separated Origin allow-list; default: only handshakes without Origin",
       parse_origins},
      {"data-dir", "DIR", "keeps the event log on disk in DIR (durable across restarts), and the signing key "
                          "(and in --dev the dev secrets) this server creates once",
       string_field(&server_config::data_dir)},
      {"log", "KIND", "where the event log lives: disk (SQLite in --data-dir; the default when --data-dir is given), "
                      "memory (lost at restart; the default without --data-dir) or jetstream (a NATS JetStream stream "
                      "shared by every node of a cluster; needs --nats)",
       [](server_config& c, std::string_view v) -> std::optional<std::string> {
         if (v != "disk" && v != "memory" && v != "jetstream")
           return "expected disk, memory or jetstream, got '" + std::string(v) + "'";
         c.log_backend = std::string(v);
         return std::nullopt;
       }},
      {"nats", "URLS", "jetstream log: comma-separated NATS servers (nats://host:port) of the JetStream cluster",
       parse_nats_urls},
      {"nats-replicas", "N", "jetstream log: replicas of the stream, 1 to 5 (default 1; 3 for a cluster that survives "
                             "losing a NATS node)",
       int_field<std::int64_t>(&server_config::nats_replicas, 1, 5)},
      {"nats-stream", "NAME", "jetstream log: the stream's name (default GLOBEMEET); every node of a cluster names the same",
       parse_stream_name},
      {"nats-creds", "FILE", "jetstream log: NATS credentials file (user JWT and NKey seed) this node connects with",
       string_field(&server_config::nats_creds)},
      {"nats-user", "USER", "jetstream log: NATS user name; with --nats-password-file", string_field(&server_config::nats_user)},
      {"nats-password-file", "FILE", "jetstream log: file holding the password of --nats-user (trailing newline ignored)",
       string_field(&server_config::nats_password_file)},
      {"nats-token-file", "FILE", "jetstream log: file holding a NATS authentication token (trailing newline ignored)",
       string_field(&server_config::nats_token_file)},
      {"nats-ca", "FILE", "jetstream log: PEM CA certificate(s) that verify the NATS servers; the connection uses TLS",
       string_field(&server_config::nats_ca)},
      {"fsync", "BOOL", "disk log: answer a publish only once its events are fsynced (default true); false answers "
                        "after the write, which survives a server crash but not a power loss",
       [](server_config& c, std::string_view v) { return parse_bool(v, c.fsync); }},
      {"memory-events", "N", "disk and jetstream logs: newest events also kept in memory for fan-out and fast replay (default 100000)",
       int_field<std::uint64_t>(&server_config::memory_events, 1)},
      {"retention-events", "N", "events kept for resume (default 100000)",
       int_field<std::uint64_t>(&server_config::retention_events, 1)},
      {"retention-seconds", "N", "seconds events are kept for resume (default 3600)",
       int_field<std::int64_t>(&server_config::retention_seconds, 1)},
      {"snapshot-topics", "N", "topics per tenant whose latest event is kept for snapshots; past it the least "
                               "recently updated is forgotten (default 10000)",
       int_field<std::uint64_t>(&server_config::snapshot_topics, 1)},
      {"overflow-lag-ms", "MS", "lag of a connection's oldest queued frame before overflow + close 4000 (default 5000)",
       int_field<std::int64_t>(&server_config::overflow_lag_ms, 1)},
      {"max-queue-bytes", "N", "bytes queued for one connection before overflow (default 8388608)",
       int_field<std::uint64_t>(&server_config::max_queue_bytes, 1024)},
      {"auth-timeout-ms", "MS", "auth deadline for connections without a token (default 10000)",
       int_field<std::int64_t>(&server_config::auth_timeout_ms, 1)},
      {"heartbeat-ms", "MS", "WebSocket ping interval; no pong within it closes 4003 (default 20000)",
       int_field<std::int64_t>(&server_config::heartbeat_ms, 10)},
      {"token-grace-ms", "MS", "grace after a token's exp before close 4001 (default 30000)",
       int_field<std::int64_t>(&server_config::token_grace_ms, 0)},
      {"token-ttl-seconds", "N", "lifetime of tokens issued by POST /oauth/token (default 900)",
       int_field<std::int64_t>(&server_config::token_ttl_seconds, 1, 86'400)},
      {"max-connections-per-tenant", "N", "WebSocket connections per tenant (default 10000)",
       int_field<std::uint64_t>(&server_config::max_connections_per_tenant, 1)},
      {"max-connections-per-address", "N", "WebSocket connections per client address (default 1000)",
       int_field<std::uint64_t>(&server_config::max_connections_per_address, 1)},
      {"drain-ms", "MS", "longest wait for clients to go at shutdown (default 2000)",
       int_field<std::int64_t>(&server_config::drain_ms, 0)},
      {"reconnect-after-ms", "MS", "reconnect_after_ms sent in `closing` at shutdown (default 1000)",
       int_field<std::int64_t>(&server_config::reconnect_after_ms, 0)},
      {"dev", "", "development mode: plain ws://, a dev HS256 secret and a dev OAuth client printed at start",
       [](server_config& c, std::string_view v) { return parse_bool(v, c.dev); }},
  };
  return table;
}

const option* find_option(std::string_view name) {
  for (const auto& o : options())
    if (o.name == name) return &o;
  return nullptr;
}

std::string env_name(std::string_view flag) {
  std::string out = "GLOBEMEET_";
  for (char ch : flag) out += ch == '-' ? '_' : static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
  return out;
}

std::string key_to_flag(std::string_view key) {
  std::string out(key);
  for (char& ch : out)
    if (ch == '_') ch = '-';
  return out;
}

std::optional<std::string> apply_config_file(server_config& c, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read config file " + path;
  std::stringstream text;
  text << in.rdbuf();
  return apply_config_text(c, text.str(), path);
}

}  // namespace

std::optional<std::string> apply_config_text(server_config& c, std::string_view text, const std::string& path) {
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(text, ec);
  if (ec || !doc.is_object()) return "config file " + path + ": expected one JSON object";
  for (const auto& [key, value] : doc.as_object()) {
    std::string flag = key_to_flag(key);
    const option* opt = find_option(flag);
    if (!opt) return "config file " + path + ": unknown key '" + std::string(key) + "'";
    std::string as_text;
    if (value.is_string()) {
      as_text = std::string(value.get_string());
    } else if (value.is_bool()) {
      as_text = value.get_bool() ? "true" : "false";
    } else if (value.is_int64() || value.is_uint64()) {
      as_text = boost::json::serialize(value);
    } else if (value.is_array() && (flag == "allowed-origins" || flag == "nats")) {
      for (const auto& item : value.get_array()) {
        if (!item.is_string()) return "config file " + path + ": '" + std::string(key) + "' must hold strings";
        if (!as_text.empty()) as_text += ',';
        as_text += std::string(item.get_string());
      }
    } else {
      return "config file " + path + ": '" + std::string(key) + "' has the wrong type";
    }
    if (auto err = opt->set(c, as_text)) return "config file " + path + ": '" + std::string(key) + "' " + *err;
  }
  return std::nullopt;
}

command parse_command_line(const std::vector<std::string>& args, const environment& env) {
  if (!args.empty() && args[0] == "hash-secret") {
    if (args.size() > 1) return usage_error{"hash-secret takes no arguments (it reads the secret from stdin)"};
    return hash_secret{};
  }

  // First pass: help and the config file, which the other sources override.
  std::string config_path;
  if (auto it = env.find("GLOBEMEET_CONFIG"); it != env.end()) config_path = it->second;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") return show_help{};
    if (args[i] == "--config") {
      if (i + 1 >= args.size()) return usage_error{"--config needs a FILE"};
      config_path = args[i + 1];
    } else if (args[i].rfind("--config=", 0) == 0) {
      config_path = args[i].substr(9);
    }
  }

  server_config config;
  if (!config_path.empty())
    if (auto err = apply_config_file(config, config_path)) return usage_error{*err};

  for (const auto& opt : options()) {
    auto it = env.find(env_name(opt.name));
    if (it == env.end()) continue;
    if (auto err = opt.set(config, it->second)) return usage_error{it->first + ": " + *err};
  }

  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg.rfind("--", 0) != 0) return usage_error{"unexpected argument '" + std::string(arg) + "'"};
    std::string_view name = arg.substr(2);
    std::optional<std::string_view> inline_value;
    if (auto eq = name.find('='); eq != std::string_view::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (name == "config") {
      if (!inline_value) ++i;
      continue;
    }
    const option* opt = find_option(name);
    if (!opt) return usage_error{"unknown option --" + std::string(name) + " (see --help)"};
    std::string_view value;
    if (inline_value) {
      value = *inline_value;
    } else if (opt->arg.empty()) {
      value = "true";
    } else {
      if (i + 1 >= args.size()) return usage_error{"--" + std::string(name) + " needs " + std::string(opt->arg)};
      value = args[++i];
    }
    if (auto err = opt->set(config, value)) return usage_error{"--" + std::string(name) + ": " + *err};
  }

  if (auto err = validate(config)) return usage_error{*err};
  return run_server{std::move(config)};
}

std::optional<std::string> validate(const server_config& c) {
  if (c.tls_cert.empty() != c.tls_key.empty()) return "--tls-cert and --tls-key go together";
  if (c.log_backend == "disk" && c.data_dir.empty()) return "--log disk needs --data-dir DIR";
  if (c.log_backend == "jetstream" && c.nats_urls.empty()) return "--log jetstream needs --nats nats://HOST:PORT[,...]";
  if (!c.nats_urls.empty() && c.log_backend != "jetstream") return "--nats is for --log jetstream";
  const bool nats_auth_or_tls = !c.nats_creds.empty() || !c.nats_user.empty() || !c.nats_password_file.empty() ||
                                !c.nats_token_file.empty() || !c.nats_ca.empty();
  if (nats_auth_or_tls && c.log_backend != "jetstream")
    return "--nats-creds, --nats-user, --nats-password-file, --nats-token-file and --nats-ca are for --log jetstream";
  if (c.nats_user.empty() != c.nats_password_file.empty()) return "--nats-user and --nats-password-file go together";
  if (int(!c.nats_creds.empty()) + int(!c.nats_user.empty()) + int(!c.nats_token_file.empty()) > 1)
    return "give one way to authenticate to NATS: --nats-creds, --nats-user with --nats-password-file, or --nats-token-file";
  if (c.tls_cert.empty() && !c.dev)
    return "TLS is required: give --tls-cert and --tls-key, or --dev for plain ws:// in development";
  if (!c.dev && c.jwks_file.empty() && c.hs256_secret_file.empty() && c.signing_key_file.empty() && c.clients_file.empty())
    return "no way to verify tokens: give --jwks, --hs256-secret-file, or --clients (tokens signed by this server), "
           "or --dev";
  return std::nullopt;
}

std::string help_text() {
  std::string out =
      "globemeet-server: the GlobeMeet Events reference server (HTTP and WebSocket on one port)\n\n"
      "usage: globemeet-server [--config FILE] [options]\n"
      "       globemeet-server hash-secret    (reads a client secret on stdin, prints its hash)\n\n"
      "Every option can also be set as GLOBEMEET_<NAME> in the environment (e.g. GLOBEMEET_LISTEN)\n"
      "or as \"<name>\" (with '_' for '-') in the JSON config file. Flags win over the environment,\n"
      "which wins over the file.\n\noptions:\n";
  out += "  --config FILE\n      JSON config file (also GLOBEMEET_CONFIG)\n";
  for (const auto& o : options()) {
    out += "  --" + std::string(o.name);
    if (!o.arg.empty()) out += " " + std::string(o.arg);
    out += "\n      " + std::string(o.help) + "\n";
  }
  out += "  --help\n      this text\n";
  return out;
}

}  // namespace globemeet::server::net
