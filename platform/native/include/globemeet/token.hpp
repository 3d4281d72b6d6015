// Tokens from the server's OAuth 2.0 client-credentials grant (POST /oauth/token, docs/client.md).
//
// fetch_token() makes one request; client_credentials_provider() wraps it for
// ClientOptions::token_provider. Both block
// the calling thread for at most `timeout` per request (the Client calls its provider on a
// helper thread, never on its I/O thread). No Boost, Asio or OpenSSL type appears here.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "globemeet/client.hpp"

namespace globemeet {

struct ClientCredentials {
  std::string server;         // http(s)://host:port[/base] of the server; the grant is POST {server}/oauth/token
  std::string client_id;
  std::string client_secret;
  std::string scope{};        // optional: space-separated topic patterns narrowing the token
  std::string ca_file{};      // PEM trusted besides OpenSSL's default store (https); verification is always on
  std::chrono::milliseconds timeout{10'000};  // bound on connecting, TLS and the exchange
};

struct Token {
  std::string access_token{};                          // the JWT, for ClientOptions::token or `Authorization: Bearer`
  std::chrono::system_clock::time_point expires_at{};  // now + the answer's expires_in (900 s on the reference server)
  std::string scope{};                                 // the granted scope, when one was requested

  bool expired(std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const {
    return now >= expires_at;
  }
};

// Thrown by fetch_token(). code() is the server's OAuth error (`invalid_client`,
// `invalid_scope`, `invalid_request`, ...) when it refused, `token_request_failed` when it could
// not be asked or answered something unusable (unreachable, TLS verification, timeout, no
// access_token), `bad_options` for an unusable `server` URL or CA file. what() is one line,
// e.g. "token refused (HTTP 401 invalid_client: client authentication failed)".
class TokenError : public ClientError {
 public:
  TokenError(std::string code, const std::string& message, unsigned http_status = 0)
      : ClientError(std::move(code), message), http_status_(http_status) {}
  unsigned http_status() const noexcept { return http_status_; }  // 0 when there was no answer

 private:
  unsigned http_status_;
};

// One client-credentials request (HTTP Basic, id and secret form-encoded as RFC 6749 2.3.1 asks).
Token fetch_token(const ClientCredentials& credentials);

// A ClientOptions::token_provider that fetches a new token on every call (throwing TokenError
// on failure, which the Client retries with backoff). No cache: the Client keeps the token it
// got and asks only when it needs a new one (before `exp`, or after the server refused the
// current one with 4401, e.g. after a restart with a new signing key), and then a cached token
// would be the wrong answer.
std::function<std::string()> client_credentials_provider(ClientCredentials credentials);

}  // namespace globemeet
