#include "server_state.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <boost/json.hpp>

#include <cctype>
#include <chrono>
#include <fstream>
#include <sstream>
#include <tuple>

#include "logger.hpp"
#include "globemeet/server/auth/base64.hpp"
#include "globemeet/server/auth/secret_hash.hpp"
#include "globemeet/server/log/jetstream_log.hpp"
#include "globemeet/server/log/memory_log.hpp"
#include "globemeet/server/log/sqlite_log.hpp"

namespace globemeet::server::net {
namespace {

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream text;
  text << in.rdbuf();
  out = text.str();
  return true;
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) return {};
  return out;
}

std::string random_hex(std::size_t bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string raw = random_bytes(bytes), out;
  for (unsigned char ch : raw) {
    out += digits[ch >> 4];
    out += digits[ch & 15];
  }
  return out;
}

// RFC 7638 JWK thumbprint of a signer's public key: the same key file always gets the same
// kid, so tokens issued before a restart still verify after it.
std::string jwk_thumbprint(const auth::signer& s) {
  boost::system::error_code ec;
  auto doc = boost::json::parse(s.public_jwks(), ec);
  if (ec || !doc.is_object()) return {};
  const auto* keys = doc.as_object().if_contains("keys");
  if (!keys || !keys->is_array() || keys->as_array().empty() || !keys->as_array()[0].is_object()) return {};
  const auto& jwk = keys->as_array()[0].as_object();
  auto member = [&](const char* name) -> std::string {
    const auto* v = jwk.if_contains(name);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  // Required members only, in lexicographic order, no white space (RFC 7638 section 3).
  std::string canonical = member("kty") == "EC"
      ? R"({"crv":")" + member("crv") + R"(","kty":"EC","x":")" + member("x") + R"(","y":")" + member("y") + R"("})"
      : R"({"e":")" + member("e") + R"(","kty":"RSA","n":")" + member("n") + R"("})";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(canonical.data(), canonical.size(), digest, &size, EVP_sha256(), nullptr) != 1) return {};
  return auth::base64url_encode(std::string_view(reinterpret_cast<const char*>(digest), size));
}

// A new EC P-256 private key as PKCS#8 PEM; empty if OpenSSL fails.
std::string generate_es256_pem() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (!key) return {};
  std::string pem;
  if (BIO* bio = BIO_new(BIO_s_mem())) {
    if (PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1) {
      char* data = nullptr;
      const long size = BIO_get_mem_data(bio, &data);
      if (size > 0) pem.assign(data, static_cast<std::size_t>(size));
    }
    BIO_free(bio);
  }
  EVP_PKEY_free(key);
  return pem;
}

// The event log the config asks for; its open report goes to the operator's log.
bool open_log(server_state& state, std::string& error_message) {
  const auto& c = state.config;
  const log::retention_policy retention{static_cast<std::size_t>(c.retention_events), c.retention_seconds * 1000};
  try {
    if (effective_log_backend(c) == "jetstream") {
      log::jetstream_log_options options;
      options.urls = c.nats_urls;
      options.stream = c.nats_stream;
      options.replicas = c.nats_replicas;
      options.creds_file = c.nats_creds;
      options.user = c.nats_user;
      options.ca_file = c.nats_ca;
      for (auto [flag, file, secret] : {std::tuple{"--nats-password-file", &c.nats_password_file, &options.password},
                                        std::tuple{"--nats-token-file", &c.nats_token_file, &options.token}}) {
        if (file->empty()) continue;
        if (!read_file(*file, *secret)) {
          error_message = std::string("cannot read ") + flag + " " + *file;
          return false;
        }
        while (!secret->empty() && std::isspace(static_cast<unsigned char>(secret->back()))) secret->pop_back();
        if (secret->empty()) {
          error_message = std::string(flag) + " " + *file + " is empty";
          return false;
        }
      }
      options.retention = retention;
      options.memory_events = static_cast<std::size_t>(c.memory_events);
      auto notice = [](std::string_view level, std::string_view msg, std::string_view detail) {
        const std::string name(msg);
        if (level == "error") logger::error(name, {{"detail", std::string(detail)}});
        else if (level == "warn") logger::warn(name, {{"detail", std::string(detail)}});
        else logger::info(name, {{"detail", std::string(detail)}});
      };
      auto opened = log::jetstream_log::open(std::move(options), notice);
      if (!opened) {
        error_message = opened.err().message;
        return false;
      }
      state.log = std::move(opened.value());
      return true;
    }
    if (effective_log_backend(c) == "memory") {
      if (c.log_backend.empty())
        logger::warn("log_in_memory", {{"note", "the event log is in memory: a restart loses it and clients get reset epoch_changed; "
                                                 "give --data-dir for a durable log"}});
      state.log = std::make_unique<log::memory_log>(random_hex(8), retention);
      return true;
    }
    log::sqlite_log_options options{state.data->file("events.db"), retention, static_cast<std::size_t>(c.memory_events), c.fsync};
    log::open_report report;
    auto opened = log::sqlite_log::open(std::move(options), random_hex(8), &report);
    if (!opened) {
      error_message = opened.err().message;
      return false;
    }
    state.log = std::move(opened.value());
    logger::info("log_opened", {{"path", state.data->file("events.db")},
                                {"epoch", state.log->epoch()},
                                {"created", report.created},
                                {"fsync", c.fsync},
                                {"head_seq", report.head_seq},
                                {"oldest_seq", report.oldest_seq},
                                {"retained", report.retained}});
    // What a torn write-ahead tail drops is a commit that was never acknowledged (its fsync had
    // not returned); a damaged write-ahead file can drop more, up to everything since the last
    // check-point: the byte count says how much.
    if (report.unclean)
      logger::warn("log_recovered", {{"path", state.data->file("events.db")},
                                     {"note", "the previous run did not shut down cleanly; the log was checked and recovered"},
                                     {"wal_bytes_dropped", report.wal_bytes_dropped},
                                     {"dropped", report.wal_bytes_dropped > 0
                                                     ? "write-ahead log frames past the last intact commit"
                                                     : "nothing"},
                                     {"head_seq", report.head_seq}});
    return true;
  } catch (const std::exception& e) {
    error_message = std::string("event log: ") + e.what();
    return false;
  }
}

std::string trim_trailing_space(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' || text.back() == '\t'))
    text.pop_back();
  return text;
}

// Development credentials: an HMAC secret for hand-minted tokens and one OAuth client that may
// read and publish everything of tenant "dev". Printed once so a developer can use them.
// With a data directory they are made once and kept there, so a restart keeps tokens valid.
bool add_dev_credentials(server_state& state, auth::key_set& keys, std::string& error_message) {
  auto make_secret = [](std::size_t bytes) { return [bytes] { return auth::base64url_encode(random_bytes(bytes)); }; };
  auto kept_secret = [&](std::string_view file, std::size_t bytes, std::string& out) {
    if (!state.data) {
      out = make_secret(bytes)();
      return true;
    }
    bool created = false;
    auto secret = state.data->load_or_create(file, make_secret(bytes), created);
    if (!secret) {
      error_message = secret.err().message;
      return false;
    }
    out = trim_trailing_space(std::move(secret.value()));
    return true;
  };
  std::string dev_secret;
  if (state.config.hs256_secret_file.empty()) {
    if (!kept_secret("dev-hs256.secret", 32, dev_secret)) return false;
    if (auto err = keys.add_hmac_secret("dev", dev_secret)) {
      error_message = "dev secret: " + err->message;
      return false;
    }
  }
  std::string client_secret;
  if (!kept_secret("dev-client.secret", 24, client_secret)) return false;
  auto hash = auth::hash_secret(client_secret, auth::min_pbkdf2_iterations);
  if (!hash) {
    error_message = "dev client: " + hash.err().message;
    return false;
  }
  auth::client dev_client{"dev-client", hash.value(), "dev", {">"}, true};
  if (auto err = state.clients.add(std::move(dev_client))) {
    error_message = "dev client: " + err->message;
    return false;
  }
  logger::warn("dev_credentials", {{"note", "development mode: never use these in production"},
                                   {"hs256_kid", dev_secret.empty() ? "" : "dev"},
                                   {"hs256_secret", dev_secret},
                                   {"client_id", "dev-client"},
                                   {"client_secret", client_secret},
                                   {"tenant", "dev"}});
  return true;
}

}  // namespace

std::int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t unix_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t steady_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::unique_ptr<server_state> make_server_state(const server_config& config, std::string& error_message) {
  auto state = std::make_unique<server_state>(config);
  const auto& c = state->config;

  if (!c.data_dir.empty()) {
    auto dir = data_dir::open(c.data_dir);
    if (!dir) {
      error_message = dir.err().message;
      return nullptr;
    }
    state->data = std::move(dir.value());
  }
  if (!open_log(*state, error_message)) return nullptr;
  const std::int64_t cache_started_us = steady_now_us();
  state->fan_out = std::make_unique<hub>(*state->log, static_cast<std::size_t>(c.snapshot_topics));
  if (const auto [topics, bytes] = state->fan_out->cache_size(); topics != 0)
    logger::info("snapshot_cache_loaded", {{"topics", topics}, {"frame_bytes", bytes},
                                          {"ms", (steady_now_us() - cache_started_us) / 1000}});

  // The key that signs tokens issued by POST /oauth/token.
  if (!c.signing_key_file.empty()) {
    std::string pem;
    if (!read_file(c.signing_key_file, pem)) {
      error_message = "cannot read --signing-key " + c.signing_key_file;
      return nullptr;
    }
    auto s = auth::signer::from_private_pem("signing", pem);
    if (!s) {
      error_message = "--signing-key: " + s.err().message;
      return nullptr;
    }
    if (std::string kid = jwk_thumbprint(s.value()); !kid.empty()) s = auth::signer::from_private_pem(kid, pem);
    state->token_signer = std::make_unique<auth::signer>(std::move(s.value()));
  } else if (state->data) {
    // Made once in the data directory and reused: tokens survive restarts.
    bool created = false;
    auto pem = state->data->load_or_create("signing-key.pem", generate_es256_pem, created);
    if (!pem) {
      error_message = pem.err().message;
      return nullptr;
    }
    auto s = auth::signer::from_private_pem("signing", pem.value());
    if (!s) {
      error_message = state->data->file("signing-key.pem") + ": " + s.err().message;
      return nullptr;
    }
    if (std::string kid = jwk_thumbprint(s.value()); !kid.empty()) s = auth::signer::from_private_pem(kid, pem.value());
    state->token_signer = std::make_unique<auth::signer>(std::move(s.value()));
    if (created) logger::info("signing_key_created", {{"path", state->data->file("signing-key.pem")}});
  } else {
    auto s = auth::signer::generate_es256("ephemeral-" + random_hex(4));
    if (!s) {
      error_message = "ephemeral signing key: " + s.err().message;
      return nullptr;
    }
    state->token_signer = std::make_unique<auth::signer>(std::move(s.value()));
  }

  // The keys that verify tokens: our own signer's, the JWKS file's, the dev HMAC secret.
  auth::key_set keys = state->token_signer->verification_keys();
  if (!c.jwks_file.empty()) {
    std::string jwks;
    if (!read_file(c.jwks_file, jwks)) {
      error_message = "cannot read --jwks " + c.jwks_file;
      return nullptr;
    }
    if (auto err = keys.add_jwks(jwks)) {
      error_message = "--jwks: " + err->message;
      return nullptr;
    }
  }
  if (!c.hs256_secret_file.empty()) {
    std::string secret;
    if (!read_file(c.hs256_secret_file, secret)) {
      error_message = "cannot read --hs256-secret-file " + c.hs256_secret_file;
      return nullptr;
    }
    if (auto err = keys.add_hmac_secret("dev", trim_trailing_space(secret))) {
      error_message = "--hs256-secret-file: " + err->message;
      return nullptr;
    }
  }

  if (!c.clients_file.empty()) {
    std::string json;
    if (!read_file(c.clients_file, json)) {
      error_message = "cannot read --clients " + c.clients_file;
      return nullptr;
    }
    auto registry = auth::client_registry::from_json(json);
    if (!registry) {
      error_message = "--clients: " + registry.err().message;
      return nullptr;
    }
    state->clients = std::move(registry.value());
  }
  if (c.dev && !add_dev_credentials(*state, keys, error_message)) return nullptr;

  state->jwks_json = keys.to_jwks();
  state->tokens_verifier = std::make_unique<auth::verifier>(std::move(keys), auth::verifier_options{c.issuer, c.audience, 30});
  state->tokens = std::make_unique<auth::token_endpoint>(state->clients, *state->token_signer,
                                                         auth::token_policy{c.issuer, c.audience, c.token_ttl_seconds});
  return state;
}

}  // namespace globemeet::server::net
