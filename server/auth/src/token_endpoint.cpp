// The checks run cheapest first (media type, form syntax, grant type), so that junk never costs
// a PBKDF2 computation; client authentication costs the same whether or not the client exists.
#include "globemeet/server/auth/token_endpoint.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "basic_credentials.hpp"
#include "globemeet/core/topic.hpp"
#include "globemeet/server/auth/form_urlencoded.hpp"
#include "globemeet/server/auth/secret_hash.hpp"
#include "quoted.hpp"

namespace globemeet::server::auth {
namespace {

namespace json = boost::json;

constexpr std::string_view form_media_type = "application/x-www-form-urlencoded";

token_response respond(int status, const json::object& body) {
  token_response r;
  r.status = status;
  r.json_body = json::serialize(body);
  r.headers = {{"Content-Type", "application/json"},
               {"Cache-Control", "no-store"},
               {"Pragma", "no-cache"}};
  return r;
}

// RFC 6749 section 5.2.
token_response oauth_error(std::string_view error, std::string_view description) {
  json::object body;
  body["error"] = error;
  body["error_description"] = description;
  const bool client_failed = error == "invalid_client";
  token_response r = respond(client_failed ? 401 : (error == "server_error" ? 500 : 400), body);
  if (client_failed) r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"globemeet\"");
  return r;
}

bool is_form_media_type(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && content_type.back() == ' ') content_type.remove_suffix(1);
  while (!content_type.empty() && content_type.front() == ' ') content_type.remove_prefix(1);
  return content_type.size() == form_media_type.size() &&
         std::equal(content_type.begin(), content_type.end(), form_media_type.begin(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; });
}

// The requested scope as distinct patterns, each valid and permitted; or the error response.
struct scope_outcome {
  std::vector<std::string> patterns;
  std::optional<token_response> refusal;
};

scope_outcome narrow_scope(std::string_view scope, const client& c) {
  scope_outcome out;
  std::size_t start = 0;
  while (start <= scope.size()) {
    const std::size_t end = std::min(scope.find(' ', start), scope.size());
    const std::string_view pattern = scope.substr(start, end - start);
    start = end + 1;
    if (pattern.empty()) {
      out.refusal = oauth_error("invalid_scope", "scope must be topic patterns separated by single spaces");
      return out;
    }
    if (auto bad = core::topic::validate_pattern(pattern)) {
      out.refusal = oauth_error("invalid_scope", "scope " + detail::quoted(pattern) + ": " + bad->message);
      return out;
    }
    const bool permitted = std::any_of(c.perms.begin(), c.perms.end(), [&](const std::string& p) {
      return core::topic::contains(p, pattern);
    });
    if (!permitted) {
      out.refusal = oauth_error("invalid_scope",
                                "scope " + detail::quoted(pattern) + " is not permitted for this client");
      return out;
    }
    if (std::find(out.patterns.begin(), out.patterns.end(), pattern) == out.patterns.end())
      out.patterns.emplace_back(pattern);
  }
  return out;
}

}  // namespace

token_endpoint::token_endpoint(const client_registry& clients, const signer& issuer_key,
                               token_policy policy)
    : clients_(clients), signer_(issuer_key), policy_(std::move(policy)) {}

token_response token_endpoint::handle_token_request(std::string_view authorization_header,
                                                    std::string_view content_type,
                                                    std::string_view body,
                                                    std::int64_t now_s) const {
  if (body.size() > max_token_request_bytes)
    return oauth_error("invalid_request", "the body is larger than " +
                                              std::to_string(max_token_request_bytes) + " bytes");
  if (!is_form_media_type(content_type))
    return oauth_error("invalid_request", "Content-Type must be application/x-www-form-urlencoded");
  auto form = parse_form(body);
  if (!form) return oauth_error("invalid_request", form.err().message);
  // RFC 6749 section 3.1: a parameter without a value is treated as omitted.
  std::map<std::string, std::string, std::less<>> params;
  for (auto& [name, value] : form.value()) {
    if (!value.empty()) params.emplace(std::move(name), std::move(value));
  }
  const auto param = [&](std::string_view name) -> const std::string* {
    const auto it = params.find(name);
    return it == params.end() ? nullptr : &it->second;
  };

  const std::string* grant_type = param("grant_type");
  if (grant_type == nullptr) return oauth_error("invalid_request", "grant_type is missing");
  if (*grant_type != "client_credentials")
    return oauth_error("unsupported_grant_type", "only grant_type=client_credentials is supported");

  // Exactly one client authentication method (RFC 6749 section 2.3).
  detail::basic_credentials credentials;
  const std::string* body_id = param("client_id");
  const std::string* body_secret = param("client_secret");
  if (!is_blank(authorization_header)) {
    if (body_id != nullptr || body_secret != nullptr)
      return oauth_error("invalid_request",
                         "use HTTP Basic or client_id/client_secret in the body, not both");
    if (!detail::is_basic_scheme(authorization_header))
      return oauth_error("invalid_client", "client authentication must use HTTP Basic");
    auto parsed = detail::parse_basic_authorization(authorization_header);
    if (!parsed) return oauth_error("invalid_client", parsed.err().message);
    credentials = std::move(parsed.value());
  } else if (body_secret != nullptr && body_id == nullptr) {
    return oauth_error("invalid_request", "client_secret without client_id");
  } else if (body_id != nullptr && body_secret != nullptr) {
    credentials = {*body_id, *body_secret};
  } else {
    return oauth_error("invalid_client", "client authentication is required (HTTP Basic)");
  }

  const client* c = clients_.find(credentials.client_id);
  if (c == nullptr) {
    // Spend the same PBKDF2 work as for a real client, then fail the same way.
    const std::uint32_t iterations = std::max(clients_.max_iterations(), min_pbkdf2_iterations);
    (void)verify_secret(credentials.client_secret,
                        "pbkdf2-sha256$" + std::to_string(iterations) +
                            "$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    return oauth_error("invalid_client", "client authentication failed");
  }
  if (!verify_secret(credentials.client_secret, c->secret_hash))
    return oauth_error("invalid_client", "client authentication failed");

  std::vector<std::string> perms = c->perms;
  const std::string* scope = param("scope");
  if (scope != nullptr) {
    auto narrowed = narrow_scope(*scope, *c);
    if (narrowed.refusal) return std::move(*narrowed.refusal);
    perms = std::move(narrowed.patterns);
  }

  claims granted;
  granted.sub = c->client_id;
  granted.tenant = c->tenant;
  granted.perms = perms;
  granted.pub = c->publish;
  granted.iat = now_s;
  granted.exp = now_s + policy_.lifetime_s;
  granted.iss = policy_.issuer;
  granted.aud = {policy_.audience};
  auto token = signer_.sign(granted);
  if (!token) return oauth_error("server_error", "the token could not be signed");

  json::object response;
  response["access_token"] = std::move(token.value());
  response["token_type"] = "Bearer";
  response["expires_in"] = policy_.lifetime_s;
  if (scope != nullptr) {
    std::string granted_scope;
    for (const auto& p : perms) granted_scope += (granted_scope.empty() ? "" : " ") + p;
    response["scope"] = granted_scope;
  }
  return respond(200, response);
}

}  // namespace globemeet::server::auth
