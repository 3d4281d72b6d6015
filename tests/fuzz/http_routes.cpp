// The plain HTTP routes (server/net route_http) on a real server state: a memory log, the
// ephemeral ES256 signer and one OAuth client. The input is a request:
//   "METHOD TARGET\n" then "Name: value\n" header lines, an empty line, the body.
// Authorization, Content-Type and Idempotency-Key reach the route (a repeated header: the
// last one). In the Authorization value "@p" becomes a valid token that may publish, "@s" one
// that may not, "@x" an expired one, so the routes are reached past verification.
// Checks: every request is answered exactly once, with a documented status; JSON bodies are
// JSON objects, errors {"error","message"} (RFC 6749's {"error","error_description"} on the
// token endpoint); a 401 carries its challenge (Bearer for POST /v1/events), a 405 its Allow;
// bearer_token() returns a trimmed part of a "Bearer " header. Only the valid publishing token
// publishes (200, one event id per event, increasing without an Idempotency-Key); a token
// issued by /oauth/token verifies with the client's tenant.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "check.hpp"
#include "http_routes.hpp"
#include "server_state.hpp"
#include "globemeet/core/event_id.hpp"
#include "globemeet/server/auth/secret_hash.hpp"

namespace net = globemeet::server::net;
namespace auth = globemeet::server::auth;
namespace core = globemeet::core;

namespace {

struct fixture {
  std::unique_ptr<net::server_state> state;
  std::string publisher, subscriber, expired;

  fixture() {
    net::server_config config;
    config.issuer = "fuzz";
    config.log_backend = "memory";
    config.retention_events = 1000;  // the memory log stays small however many publishes succeed
    std::string error;
    state = net::make_server_state(config, error);
    FUZZ_CHECK(state != nullptr);
    // Client "svc", secret "fuzz-secret": Basic c3ZjOmZ1enotc2VjcmV0 (the seeds use it).
    auto hash = auth::hash_secret("fuzz-secret", auth::min_pbkdf2_iterations);
    FUZZ_CHECK(hash.ok());
    FUZZ_CHECK(!state->clients.add(auth::client{"svc", hash.value(), "acme", {"queue.>", "agent.*.status"}, true}));
    const std::int64_t now = net::unix_now_s();
    auth::claims c{"svc", "acme", {">"}, true, now + 3600, now, std::nullopt, "fuzz", {"globemeet-events"}};
    publisher = state->token_signer->sign(c).value();
    c.pub = false;
    subscriber = state->token_signer->sign(c).value();
    c.pub = true, c.iat = now - 7200, c.exp = now - 3600;
    expired = state->token_signer->sign(c).value();
  }
};

fixture& shared() {
  static fixture f;  // building the state (a key pair) per input would be most of the time
  return f;
}

bool iequals(std::string_view a, std::string_view b) {
  auto lower = [](char ch) { return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch; };
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string with_tokens(std::string_view value, const fixture& f) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '@' && i + 1 < value.size() && (value[i + 1] == 'p' || value[i + 1] == 's' || value[i + 1] == 'x')) {
      out += value[i + 1] == 'p' ? f.publisher : value[i + 1] == 's' ? f.subscriber : f.expired;
      ++i;
    } else {
      out += value[i];
    }
  }
  return out;
}

const std::string* header(const net::http_response& r, std::string_view name) {
  for (const auto& [n, v] : r.headers)
    if (iequals(n, name)) return &v;
  return nullptr;
}

void check_bearer_token(std::string_view authorization) {
  const std::string_view token = net::bearer_token(authorization);
  if (token.empty()) return;
  FUZZ_CHECK(authorization.size() > 7 && iequals(authorization.substr(0, 7), "Bearer "));
  FUZZ_CHECK(token.front() != ' ' && token.back() != ' ');
  FUZZ_CHECK(token.data() >= authorization.data() + 7 && token.data() + token.size() <= authorization.data() + authorization.size());
}

void check_response(const fixture& f, const net::http_request& request, const net::http_response& r) {
  const std::string_view path = net::target_path(request.target);
  const bool publish = path == "/v1/events" && request.method == "POST";
  const bool token_route = path == "/oauth/token" && request.method == "POST";  // the token endpoint answers
  switch (r.status) {
    case 200: case 400: case 401: case 403: case 404: case 405: case 413: case 415: case 426: case 503: break;
    default: FUZZ_CHECK(r.status == 200);  // any other status is undocumented: fails
  }
  if (r.status == 405) FUZZ_CHECK(header(r, "Allow") != nullptr);
  if (r.status == 401) {
    const std::string* challenge = header(r, "WWW-Authenticate");
    FUZZ_CHECK(challenge != nullptr);
    if (publish) FUZZ_CHECK(*challenge == net::bearer_challenge);
  }
  if (r.content_type != "application/json") {
    FUZZ_CHECK(path == "/metrics" && r.status == 200);
    return;
  }
  boost::system::error_code ec;
  const auto body = boost::json::parse(r.body, ec);
  FUZZ_CHECK(!ec && body.is_object());
  const auto& object = body.as_object();
  if (r.status >= 400 && !(path == "/readyz" && r.status == 503)) {
    const auto* error = object.if_contains("error");
    const auto* message = object.if_contains(token_route ? "error_description" : "message");
    FUZZ_CHECK(error && error->is_string() && !error->get_string().empty());
    FUZZ_CHECK(message && message->is_string());
  }
  if (publish && r.status == 200) {
    // Only the publishing token publishes, and the body was JSON.
    FUZZ_CHECK(net::bearer_token(request.authorization) == f.publisher);
    const auto* ids = object.if_contains("ids");
    FUZZ_CHECK(ids && ids->is_array() && !ids->get_array().empty());
    std::optional<core::event_id> last;
    for (const auto& id : ids->get_array()) {
      FUZZ_CHECK(id.is_string());
      const auto parsed = core::event_id::parse_event(id.get_string());
      FUZZ_CHECK(parsed.has_value());
      // Increasing unless an Idempotency-Key names events stored before (their earlier ids).
      if (last && !request.has_idempotency_key) FUZZ_CHECK(parsed->epoch == last->epoch && parsed->seq > last->seq);
      last = parsed;
    }
  }
  if (publish && r.status == 403) FUZZ_CHECK(net::bearer_token(request.authorization) == f.subscriber);
  if (token_route && r.status == 200) {
    const auto* token = object.if_contains("access_token");
    FUZZ_CHECK(token && token->is_string());
    const auto claims = f.state->tokens_verifier->verify(token->get_string(), net::unix_now_s());
    FUZZ_CHECK(claims.ok());
    FUZZ_CHECK(claims->sub == "svc" && claims->tenant == "acme" && claims->pub);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fixture& f = shared();
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  auto next_line = [&rest] {
    const auto newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);
    return line;
  };

  const std::string_view request_line = next_line();
  const auto space = request_line.find(' ');
  net::http_request request;
  request.method = request_line.substr(0, space);
  request.target = space == std::string_view::npos ? std::string_view{} : request_line.substr(space + 1);
  std::string authorization;
  for (std::string_view line = next_line(); !line.empty(); line = next_line()) {
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (iequals(name, "Authorization")) {
      authorization = with_tokens(value, f);
    } else if (iequals(name, "Content-Type")) {
      request.content_type = value;
    } else if (iequals(name, "Idempotency-Key")) {
      request.idempotency_key = value;
      request.has_idempotency_key = true;
    }
  }
  request.authorization = authorization;
  request.body = rest;
  check_bearer_token(request.authorization);

  int answers = 0;
  net::route_http(*f.state, request, [&](net::http_response response) {
    ++answers;
    check_response(f, request, response);
  });
  FUZZ_CHECK(answers == 1);  // the memory log stores on the calling thread
  return 0;
}
