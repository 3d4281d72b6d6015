// POST /oauth/token: the OAuth 2.0 client-credentials grant (RFC 6749 sections 4.4, 5.1, 5.2),
// sans-I/O. The HTTP layer passes the request's Authorization and Content-Type headers and
// body and sends back status, headers and body as returned.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "globemeet/server/auth/client_registry.hpp"
#include "globemeet/server/auth/signer.hpp"

namespace globemeet::server::auth {

inline constexpr std::size_t max_token_request_bytes = 8'192;

struct token_policy {
  std::string issuer;
  std::string audience = "globemeet-events";
  std::int64_t lifetime_s = 900;  // 15 minutes
};

struct token_response {
  int status = 0;
  std::string json_body;
  std::vector<std::pair<std::string, std::string>> headers;  // always Content-Type, Cache-Control
};

class token_endpoint {
 public:
  // Both references must outlive the endpoint.
  token_endpoint(const client_registry& clients, const signer& issuer_key, token_policy policy);

  // Client authentication: HTTP Basic (preferred; id and secret form-urlencoded inside, RFC 6749
  // section 2.3.1) or client_id/client_secret in the body, never both. `grant_type` must be
  // client_credentials. An optional `scope` (space-separated topic patterns, each contained in
  // the client's perms) narrows the token's perms to the requested patterns.
  //   200 {"access_token","token_type":"Bearer","expires_in","scope"?}  (scope when requested)
  //   400 invalid_request | unsupported_grant_type | invalid_scope
  //   401 invalid_client, with WWW-Authenticate: Basic realm="globemeet"
  //   500 server_error (signing failed)
  // Error bodies are {"error","error_description"}. Every response has Cache-Control: no-store.
  // Thread-safe.
  token_response handle_token_request(std::string_view authorization_header,
                                      std::string_view content_type, std::string_view body,
                                      std::int64_t now_s) const;

 private:
  const client_registry& clients_;
  const signer& signer_;
  token_policy policy_;
};

}  // namespace globemeet::server::auth
