#include "session_json.hpp"

#include <cmath>
#include <cstdint>
#include <variant>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "globemeet/core/codec.hpp"
#include "json_text.hpp"

namespace globemeet::wasm {
namespace {

namespace json = boost::json;
using core::error;

inline constexpr std::size_t max_config_bytes = 16'384;

error bad_config(std::string message) { return error{"bad_config", std::move(message)}; }

// Reads the members of one config object, refusing wrong types; the first error wins.
class member_reader {
 public:
  explicit member_reader(std::string path) : path_(std::move(path)) {}

  void duration(const json::value& v, std::string_view key, std::int64_t& out) {
    if (failed()) return;
    json::error_code ec;
    const auto n = v.to_number<std::int64_t>(ec);
    if (ec) return fail(key, "expected an integer number of milliseconds");
    if (n < 0) return fail(key, "expected a non-negative number of milliseconds");
    out = n;
  }
  void number(const json::value& v, std::string_view key, double& out) {
    if (failed()) return;
    json::error_code ec;
    const auto n = v.to_number<double>(ec);
    if (ec || !std::isfinite(n)) return fail(key, "expected a finite number");
    out = n;
  }
  void boolean(const json::value& v, std::string_view key, bool& out) {
    if (failed()) return;
    if (!v.is_bool()) return fail(key, "expected true or false");
    out = v.get_bool();
  }
  void string(const json::value& v, std::string_view key, std::string& out) {
    if (failed()) return;
    if (!v.is_string()) return fail(key, "expected a string");
    out = std::string(v.get_string());
  }
  bool object(const json::value& v, std::string_view key) {
    if (failed()) return false;
    if (!v.is_object()) fail(key, "expected an object");
    return !failed();
  }
  void unknown(std::string_view key) { fail(key, "is not a config member"); }

  bool failed() const noexcept { return error_.has_value(); }
  const error& err() const { return *error_; }

 private:
  void fail(std::string_view key, std::string_view what) {
    if (!error_) error_ = bad_config("member '" + path_ + std::string(key) + "': " + std::string(what));
  }

  std::string path_;
  std::optional<error> error_;
};

void read_backoff(const json::object& o, core::backoff_policy& policy, member_reader& r) {
  for (const auto& [key, v] : o) {
    if (key == "min_ms") r.duration(v, key, policy.min_ms);
    else if (key == "max_ms") r.duration(v, key, policy.max_ms);
    else if (key == "factor") r.number(v, key, policy.factor);
    else r.unknown(key);
  }
}

void append_action(std::string& out, const core::open_action& a) {
  json_text::object_writer w(out);
  w.string("kind", "open")
      .integer("connection", static_cast<std::int64_t>(a.connection))
      .string("url", a.url)
      .string("subprotocol", a.subprotocol)
      .string_or_null("authorization", a.authorization)
      .string_or_null("last_event_id", a.last_event_id)
      .close();
}
void append_action(std::string& out, const core::send_action& a) {
  json_text::object_writer w(out);
  w.string("kind", "send").integer("connection", static_cast<std::int64_t>(a.connection)).string("text", a.text).close();
}
void append_action(std::string& out, const core::close_action& a) {
  json_text::object_writer w(out);
  w.string("kind", "close")
      .integer("connection", static_cast<std::int64_t>(a.connection))
      .integer("code", a.code)
      .string("reason", a.reason)
      .close();
}
void append_action(std::string& out, const core::arm_timer_action& a) {
  json_text::object_writer w(out);
  w.string("kind", "arm_timer").string("timer", core::to_string(a.timer)).integer("at_ms", a.at_ms).close();
}
void append_action(std::string& out, const core::cancel_timer_action& a) {
  json_text::object_writer w(out);
  w.string("kind", "cancel_timer").string("timer", core::to_string(a.timer)).close();
}
void append_action(std::string& out, const core::request_token_action& a) {
  json_text::object_writer w(out);
  w.string("kind", "request_token").string("reason", core::to_string(a.reason)).close();
}
void append_action(std::string& out, const core::deliver_action& a) {
  std::string handles = "[";
  for (std::size_t i = 0; i < a.handles.size(); ++i) {
    if (i != 0) handles.push_back(',');
    handles += std::to_string(a.handles[i]);
  }
  handles.push_back(']');
  json_text::object_writer w(out);
  // The SDK parses `frame` itself; the envelope's other members are not repeated here.
  w.string("kind", "deliver").string("frame", a.frame).raw("handles", handles).string("id", a.ev.id).string("topic", a.ev.topic)
      .boolean("snapshot", a.snapshot);
  if (a.delay_ms) w.integer("delay_ms", *a.delay_ms);
  else w.raw("delay_ms", "null");
  w.close();
}
void append_action(std::string& out, const core::state_changed_action& a) {
  json_text::object_writer w(out);
  w.string("kind", "state_changed")
      .string("from", core::to_string(a.from))
      .string("to", core::to_string(a.to))
      .integer("code", a.code)
      .string("reason", a.reason)
      .close();
}
void append_action(std::string& out, const core::notice_action& a) {
  json_text::object_writer w(out);
  w.string("kind", "notice")
      .string("notice", core::to_string(a.kind))
      .string("detail", a.detail)
      .string("message", a.message)
      .integer("handle", static_cast<std::int64_t>(a.handle))
      .integer("close_code", a.close_code)
      .string("close_reason", a.close_reason)
      .close();
}

}  // namespace

core::result<core::session_config> parse_session_config(std::string_view text) {
  // The core's strict check first: duplicate members and other ambiguities are refused, not
  // resolved silently by whichever copy Boost.JSON keeps.
  if (auto bad = core::codec::check_strict_json(text, max_config_bytes))
    return bad_config("the config is not one strict JSON object: " + bad->message);
  json::error_code ec;
  const json::value root = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec || !root.is_object()) return bad_config("the config is not a JSON object");

  core::session_config config;
  bool has_endpoint = false;
  member_reader r("");
  for (const auto& [key, v] : root.get_object()) {
    if (key == "endpoint") {
      r.string(v, key, config.endpoint);
      has_endpoint = true;
    } else if (key == "token_in_header") {
      r.boolean(v, key, config.token_in_header);
    } else if (key == "token_provider") {
      r.boolean(v, key, config.token_provider);
    } else if (key == "conflate") {
      r.boolean(v, key, config.conflate);
    } else if (key == "backoff") {
      if (!r.object(v, key)) continue;
      member_reader nested("backoff.");
      read_backoff(v.get_object(), config.backoff, nested);
      if (nested.failed()) return nested.err();
    } else if (key == "handshake_timeout_ms") {
      r.duration(v, key, config.handshake_timeout_ms);
    } else if (key == "refresh_before_ms") {
      r.duration(v, key, config.refresh_before_ms);
    } else if (key == "stable_after_ms") {
      r.duration(v, key, config.stable_after_ms);
    } else if (key == "default_heartbeat_ms") {
      r.duration(v, key, config.default_heartbeat_ms);
    } else {
      r.unknown(key);
    }
  }
  if (r.failed()) return r.err();
  const std::string_view endpoint = config.endpoint;
  if (!has_endpoint || !(endpoint.starts_with("ws://") || endpoint.starts_with("wss://")))
    return bad_config("member 'endpoint': required, a ws:// or wss:// URL");
  return config;
}

std::string actions_to_json(const std::vector<core::action>& actions) {
  std::string out = "[";
  for (std::size_t i = 0; i < actions.size(); ++i) {
    if (i != 0) out.push_back(',');
    std::visit([&out](const auto& a) { append_action(out, a); }, actions[i]);
  }
  out.push_back(']');
  return out;
}

std::string status_to_json(const core::client_session& session) {
  std::string out;
  const std::optional<std::string> last = session.last_event_id();
  json_text::object_writer w(out);
  w.string("state", core::to_string(session.state()))
      .string_or_null("last_event_id", last.value_or(std::string()))
      .integer("final_code", session.final_code())
      .close();
  return out;
}

std::string latency_to_json(const core::latency_stats& l) {
  std::string out;
  json_text::object_writer(out)
      .integer("count", static_cast<std::int64_t>(l.count))
      .integer("p50_ms", l.p50_ms)
      .integer("p99_ms", l.p99_ms)
      .integer("clock_offset_ms", l.clock_offset_ms)
      .close();
  return out;
}

std::optional<core::timer_kind> timer_kind_from_name(std::string_view name) noexcept {
  using core::timer_kind;
  for (const timer_kind k : {timer_kind::reconnect, timer_kind::handshake, timer_kind::heartbeat, timer_kind::pong,
                             timer_kind::refresh, timer_kind::stable, timer_kind::resend}) {
    if (name == core::to_string(k)) return k;
  }
  return std::nullopt;
}

}  // namespace globemeet::wasm
