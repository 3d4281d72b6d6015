#include "http_routes.hpp"

#include <boost/json.hpp>

#include "idempotency_key.hpp"
#include "logger.hpp"
#include "globemeet/server/events/catalogue.hpp"
#include "globemeet/server/events/publish.hpp"

namespace globemeet::server::net {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char ch) { return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

http_response method_not_allowed(std::string_view allow) {
  auto response = json_error(405, "method_not_allowed", "this route allows " + std::string(allow));
  response.headers.emplace_back("Allow", std::string(allow));
  return response;
}

http_response unauthorized(std::string_view message) {
  auto response = json_error(401, "invalid_token", message);
  response.headers.emplace_back("WWW-Authenticate", std::string(bearer_challenge));
  return response;
}

int publish_error_status(std::string_view code) {
  if (code == events::payload_too_large_code || code == events::too_many_events_code) return 413;
  if (code == log::log_unavailable_code) return 503;
  return 400;
}

// Answers once the log has stored the events (for a durable log: after its commit), so a
// 200 means stored and on its way to subscribers; the I/O thread never waits for the disk.
void publish(server_state& state, const http_request& request, const http_responder& respond) {
  std::string_view token = bearer_token(request.authorization);
  if (token.empty()) return respond(unauthorized("send Authorization: Bearer <token>"));
  auto verified = state.tokens_verifier->verify(token, unix_now_s());
  if (!verified) return respond(unauthorized(verified.err().message));
  if (!verified->pub) return respond(json_error(403, "forbidden", "the token does not allow publishing (no `pub` claim)"));

  std::string_view media = request.content_type.substr(0, request.content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  // Required, not guessed (issue 16): a body without a type is not known to be JSON.
  if (!iequals(media, "application/json"))
    return respond(json_error(415, "unsupported_media_type",
                              media.empty() ? "send Content-Type: application/json" : "the body must be application/json"));

  if (request.has_idempotency_key)
    if (auto why = check_idempotency_key(request.idempotency_key)) return respond(json_error(400, "bad_request", *why));

  auto parsed = events::parse_publish(request.body, verified->tenant);
  if (!parsed) return respond(json_error(publish_error_status(parsed.err().code), parsed.err().code, parsed.err().message));
  if (request.has_idempotency_key && !assign_idempotency_ids(parsed.value(), request.idempotency_key))
    return respond(json_error(503, log::log_unavailable_code, "cannot derive the events' idempotency ids; retry later"));
  state.log->append(std::move(parsed.value()), unix_now_ms(), [&state, respond](log::event_log::append_result stored) {
    if (!stored) {
      auto response = json_error(publish_error_status(stored.err().code), stored.err().code, stored.err().message);
      if (response.status == 503) response.headers.emplace_back("Retry-After", "1");
      return respond(std::move(response));
    }
    boost::json::array ids;
    ids.reserve(stored->size());
    std::size_t missing = 0;
    for (const auto& event : stored.value()) {
      if (event)
        ids.emplace_back(event->id);
      else
        ids.emplace_back(nullptr), ++missing;
    }
    state.stats.events_in.fetch_add(stored->size() - missing, std::memory_order_relaxed);
    http_response response;
    if (missing > 0) {
      // Part of the batch was stored (a log without atomic batches lost its store midway): say
      // which, so a retry with the same Idempotency-Key completes it without duplicates.
      response.status = 503;
      response.headers.emplace_back("Retry-After", "1");
      response.body = boost::json::serialize(boost::json::object{
          {"error", log::log_unavailable_code},
          {"message", std::to_string(stored->size() - missing) + " of " + std::to_string(stored->size()) +
                          " events were stored (their ids are in `ids`, null for the others); retry the same request "
                          "with the same Idempotency-Key to store the rest once"},
          {"ids", std::move(ids)}});
      return respond(std::move(response));
    }
    response.body = boost::json::serialize(boost::json::object{{"ids", std::move(ids)}});
    respond(std::move(response));
  });
}

http_response token(server_state& state, const http_request& request) {
  auto answer = state.tokens->handle_token_request(request.authorization, request.content_type, request.body,
                                                   unix_now_s());
  http_response response;
  response.status = answer.status;
  response.body = std::move(answer.json_body);
  for (auto& [name, value] : answer.headers) {
    if (iequals(name, "Content-Type"))
      response.content_type = value;
    else
      response.headers.emplace_back(std::move(name), std::move(value));
  }
  return response;
}

// The path as a 404 may quote it: bytes outside visible ASCII percent-encoded (RFC 3986 2.1), so
// the JSON body stays valid UTF-8 whatever bytes the request target held (fuzz target
// http_routes: a raw 0xFF in the path made a body no JSON parser accepts).
std::string printable_path(std::string_view path) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : path) {
    const auto byte = static_cast<unsigned char>(ch);
    if (byte > 0x20 && byte < 0x7F) {
      out += ch;
    } else {
      out += '%';
      out += hex[byte >> 4];
      out += hex[byte & 15];
    }
  }
  return out;
}

http_response text(int status, std::string content_type, std::string body) {
  http_response response;
  response.status = status;
  response.content_type = std::move(content_type);
  response.body = std::move(body);
  return response;
}

}  // namespace

http_response json_error(int status, std::string_view code, std::string_view message) {
  http_response response;
  response.status = status;
  response.body = boost::json::serialize(boost::json::object{{"error", code}, {"message", message}});
  return response;
}

std::string_view target_path(std::string_view target) { return target.substr(0, target.find('?')); }

std::string_view bearer_token(std::string_view authorization) {
  if (authorization.size() < 7 || !iequals(authorization.substr(0, 7), "Bearer ")) return {};
  std::string_view token = authorization.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

void route_http(server_state& state, const http_request& request, const http_responder& respond) {
  if (target_path(request.target) == "/v1/events" && request.method == "POST") {
    state.stats.http_requests.fetch_add(1, std::memory_order_relaxed);
    return publish(state, request, respond);
  }
  respond(route_http_now(state, request));
}

http_response route_http_now(server_state& state, const http_request& request) {
  state.stats.http_requests.fetch_add(1, std::memory_order_relaxed);
  std::string_view path = target_path(request.target);
  const bool get = request.method == "GET";

  if (path == "/v1/events") {
    if (request.method == "GET")
      return json_error(426, "upgrade_required", "GET /v1/events is a WebSocket endpoint");
    return method_not_allowed("GET, POST");
  }
  if (path == "/oauth/token") {
    if (request.method != "POST") return method_not_allowed("POST");
    return token(state, request);
  }
  if (path == "/v1/topics") {
    if (!get) return method_not_allowed("GET");
    return text(200, "application/json", events::to_json());
  }
  if (path == "/.well-known/jwks.json") {
    if (!get) return method_not_allowed("GET");
    auto response = text(200, "application/json", state.jwks_json);
    response.headers.emplace_back("Cache-Control", "public, max-age=300");
    return response;
  }
  if (path == "/healthz") {
    if (!get) return method_not_allowed("GET");
    return text(200, "application/json", R"({"status":"ok"})");
  }
  if (path == "/readyz") {
    if (!get) return method_not_allowed("GET");
    if (state.draining.load()) return text(503, "application/json", R"({"status":"draining"})");
    if (auto reason = state.log->unavailable_reason())
      return text(503, "application/json",
                  boost::json::serialize(boost::json::object{{"status", "log_unavailable"}, {"reason", *reason}}));
    return text(200, "application/json", R"({"status":"ready"})");
  }
  if (path == "/metrics") {
    if (!get) return method_not_allowed("GET");
    std::string body = state.stats.render();
    const auto log = state.log->stats();
    metrics::render_log(body, log.commits, log.appends, log.commit_ns, log.damaged_events);
    if (log.has_stream) metrics::render_stream(body, log.stream_lag, log.round_trip_ns, log.publishes, log.publish_ns);
    return text(200, "text/plain; version=0.0.4", std::move(body));
  }
  return json_error(404, "not_found", "no route " + printable_path(path));
}

}  // namespace globemeet::server::net
