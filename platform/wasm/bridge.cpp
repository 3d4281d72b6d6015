// The flat C ABI that JavaScript calls: the core's functions over plain numbers and byte ranges.
//
// Conventions (see README.md for every function and result shape):
// * Text goes in as a pointer and a byte length into wasm memory (UTF-8, or any bytes: the
//   codec judges invalid UTF-8 itself). The caller allocates it with gm_alloc and frees it.
// * Structured results come out as NUL-terminated UTF-8 JSON text in a buffer the bridge
//   allocates; the caller reads it and releases it with gm_free. Null means out of memory.
// * Plain answers (a boolean, a delay) are returned as numbers. 64-bit integers cross as
//   doubles: every id and time the protocol uses stays below 2^53.
// * Nothing throws across this boundary: the core does not throw, and the bridge's own
//   allocations failing is the one case left, which ends in abort() like any wasm OOM.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <emscripten/emscripten.h>

#include "globemeet/core/backoff.hpp"
#include "globemeet/core/client_session.hpp"
#include "globemeet/core/codec.hpp"
#include "globemeet/core/event_id.hpp"
#include "globemeet/core/topic.hpp"
#include "json_text.hpp"
#include "session_json.hpp"

namespace {

namespace core = globemeet::core;
namespace json_text = globemeet::wasm::json_text;

std::string_view text(const char* data, std::size_t size) noexcept {
  return size == 0 ? std::string_view() : std::string_view(data, size);
}

// A copy of `json` in a malloc'd, NUL-terminated buffer for the JavaScript side to free.
char* hand_over(const std::string& json) noexcept {
  auto* out = static_cast<char*>(std::malloc(json.size() + 1));
  if (out == nullptr) return nullptr;
  std::memcpy(out, json.c_str(), json.size() + 1);
  return out;
}

std::string error_json(std::string_view validity_key, const core::error& e) {
  std::string out;
  json_text::object_writer(out).boolean(validity_key, false).string("code", e.code).string("message", e.message).close();
  return out;
}

char* validity(std::string_view key, const std::optional<core::error>& problem) noexcept {
  if (problem) return hand_over(error_json(key, *problem));
  return hand_over(std::string("{\"") + std::string(key) + "\":true}");
}

// A JavaScript number as an integer: NaN becomes 0, out-of-range values saturate (a plain
// cast would be undefined behaviour).
std::int64_t to_int64(double d) noexcept {
  if (std::isnan(d)) return 0;
  if (d >= 9.2e18) return std::numeric_limits<std::int64_t>::max();
  if (d <= -9.2e18) return std::numeric_limits<std::int64_t>::min();
  return static_cast<std::int64_t>(d);
}
std::uint64_t to_uint64(double d) noexcept {
  if (!(d > 0)) return 0;  // also NaN
  if (d >= 1.8e19) return std::numeric_limits<std::uint64_t>::max();
  return static_cast<std::uint64_t>(d);
}

core::tick to_tick(double now_ms, double random) noexcept {
  return core::tick{to_int64(now_ms), std::isfinite(random) ? random : 0.0};
}

template <class Frame>
char* decoded(const core::result<Frame>& frame) noexcept {
  if (!frame) return hand_over(error_json("ok", frame.err()));
  std::string out;
  json_text::object_writer(out).boolean("ok", true).string("canonical", core::codec::encode(frame.value())).close();
  return hand_over(out);
}

}  // namespace

// The session as the JavaScript side holds it: an opaque pointer.
struct gm_session {
  core::client_session session;
  std::vector<double> handles;  // the handles of gm_session_event's deliver action, then its delay
};

extern "C" {

// ---- memory ----------------------------------------------------------------------------------
EMSCRIPTEN_KEEPALIVE void* gm_alloc(std::size_t size) noexcept { return std::malloc(size == 0 ? 1 : size); }
EMSCRIPTEN_KEEPALIVE void gm_free(void* p) noexcept { std::free(p); }

// ---- topics ----------------------------------------------------------------------------------
// {"valid":true} or {"valid":false,"code":"invalid_topic","message":...}
EMSCRIPTEN_KEEPALIVE char* gm_topic_validate_name(const char* name, std::size_t size) noexcept {
  return validity("valid", core::topic::validate_name(text(name, size)));
}
EMSCRIPTEN_KEEPALIVE char* gm_topic_validate_pattern(const char* pattern, std::size_t size) noexcept {
  return validity("valid", core::topic::validate_pattern(text(pattern, size)));
}
// 1 or 0; both arguments must be valid (as in the core).
EMSCRIPTEN_KEEPALIVE int gm_topic_matches(const char* pattern, std::size_t pattern_size, const char* name,
                                          std::size_t name_size) noexcept {
  return core::topic::matches(text(pattern, pattern_size), text(name, name_size)) ? 1 : 0;
}
EMSCRIPTEN_KEEPALIVE int gm_topic_contains(const char* outer, std::size_t outer_size, const char* inner,
                                           std::size_t inner_size) noexcept {
  return core::topic::contains(text(outer, outer_size), text(inner, inner_size)) ? 1 : 0;
}

// ---- event ids -------------------------------------------------------------------------------
// {"valid":true,"epoch":"6f1c2a9e","seq":1042,"event":true} or {"valid":false}; `event` is false
// for `{epoch}-0`, a position that no event carries.
EMSCRIPTEN_KEEPALIVE char* gm_event_id_parse(const char* id, std::size_t size) noexcept {
  const auto parsed = core::event_id::parse(text(id, size));
  if (!parsed) return hand_over("{\"valid\":false}");
  std::string out;
  json_text::object_writer(out)
      .boolean("valid", true)
      .string("epoch", parsed->epoch)
      .integer("seq", static_cast<std::int64_t>(parsed->seq))  // at most 2^53-1
      .boolean("event", parsed->names_event())
      .close();
  return hand_over(out);
}

// ---- backoff ---------------------------------------------------------------------------------
EMSCRIPTEN_KEEPALIVE double gm_backoff_delay(double min_ms, double max_ms, double factor, unsigned attempt,
                                             double random) noexcept {
  const core::backoff_policy policy{to_int64(min_ms), to_int64(max_ms), factor};
  return static_cast<double>(core::backoff_delay(policy, attempt, random));
}

// ---- codec -----------------------------------------------------------------------------------
// {"ok":true,"canonical":<encode(decode(text))>} or {"ok":false,"code":..,"message":..}
EMSCRIPTEN_KEEPALIVE char* gm_codec_decode_server(const char* frame, std::size_t size) noexcept {
  return decoded(core::codec::decode_server(text(frame, size)));
}
// {"ok":true} or {"ok":false,"code":"bad_json","message":..}
EMSCRIPTEN_KEEPALIVE char* gm_codec_check_strict_json(const char* json, std::size_t size,
                                                      std::size_t max_bytes) noexcept {
  return validity("ok", core::codec::check_strict_json(text(json, size), max_bytes));
}

// ---- client session --------------------------------------------------------------------------
// {"ok":true,"session":<pointer>} or {"ok":false,"code":"bad_config","message":..}
EMSCRIPTEN_KEEPALIVE char* gm_session_create(const char* config_json, std::size_t size) noexcept {
  auto config = globemeet::wasm::parse_session_config(text(config_json, size));
  if (!config) return hand_over(error_json("ok", config.err()));
  auto* s = new gm_session{core::client_session(std::move(config.value())), {}};
  std::string out;
  json_text::object_writer(out)
      .boolean("ok", true)
      .integer("session", static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(s)))
      .close();
  return hand_over(out);
}
EMSCRIPTEN_KEEPALIVE void gm_session_destroy(gm_session* s) noexcept { delete s; }

// Inputs return 1 when taken, 0 when an argument is unusable (no session, an unknown timer
// name, a close code outside 0..65535); then the session is untouched.
EMSCRIPTEN_KEEPALIVE int gm_session_start(gm_session* s, double now_ms, double random) noexcept {
  if (s == nullptr) return 0;
  s->session.start(to_tick(now_ms, random));
  return 1;
}
EMSCRIPTEN_KEEPALIVE int gm_session_token_obtained(gm_session* s, double now_ms, double random, const char* token,
                                                   std::size_t size) noexcept {
  if (s == nullptr) return 0;
  s->session.token_obtained(to_tick(now_ms, random), std::string(text(token, size)));
  return 1;
}
EMSCRIPTEN_KEEPALIVE int gm_session_token_failed(gm_session* s, double now_ms, double random, const char* reason,
                                                 std::size_t size) noexcept {
  if (s == nullptr) return 0;
  s->session.token_failed(to_tick(now_ms, random), text(reason, size));
  return 1;
}
EMSCRIPTEN_KEEPALIVE int gm_session_opened(gm_session* s, double now_ms, double random, double connection) noexcept {
  if (s == nullptr) return 0;
  s->session.opened(to_tick(now_ms, random), to_uint64(connection));
  return 1;
}
EMSCRIPTEN_KEEPALIVE int gm_session_frame(gm_session* s, double now_ms, double random, double connection,
                                          const char* frame, std::size_t size) noexcept {
  if (s == nullptr) return 0;
  s->session.frame(to_tick(now_ms, random), to_uint64(connection), text(frame, size));
  return 1;
}
EMSCRIPTEN_KEEPALIVE int gm_session_closed(gm_session* s, double now_ms, double random, double connection, int code,
                                           const char* reason, std::size_t size) noexcept {
  if (s == nullptr || code < 0 || code > 65535) return 0;
  s->session.closed(to_tick(now_ms, random), to_uint64(connection), static_cast<std::uint16_t>(code),
                    text(reason, size));
  return 1;
}
EMSCRIPTEN_KEEPALIVE int gm_session_timer_fired(gm_session* s, double now_ms, double random, const char* timer,
                                                std::size_t size) noexcept {
  const auto kind = globemeet::wasm::timer_kind_from_name(text(timer, size));
  if (s == nullptr || !kind) return 0;
  s->session.timer_fired(to_tick(now_ms, random), *kind);
  return 1;
}
// {"ok":true,"handle":N} or {"ok":false,"code":"invalid_topic","message":..}; `snapshot` 1 asks
// for the pattern's current state first (core::subscribe_options).
EMSCRIPTEN_KEEPALIVE char* gm_session_subscribe(gm_session* s, double now_ms, double random, const char* pattern,
                                                std::size_t size, int snapshot) noexcept {
  if (s == nullptr) return hand_over(error_json("ok", core::error{"bad_argument", "no session"}));
  const auto handle = s->session.subscribe(to_tick(now_ms, random), text(pattern, size),
                                           core::subscribe_options{snapshot != 0});
  if (!handle) return hand_over(error_json("ok", handle.err()));
  std::string out;
  json_text::object_writer(out).boolean("ok", true).integer("handle", static_cast<std::int64_t>(handle.value())).close();
  return hand_over(out);
}
EMSCRIPTEN_KEEPALIVE int gm_session_unsubscribe(gm_session* s, double now_ms, double random, double handle) noexcept {
  if (s == nullptr) return 0;
  s->session.unsubscribe(to_tick(now_ms, random), to_uint64(handle));
  return 1;
}
EMSCRIPTEN_KEEPALIVE int gm_session_stop(gm_session* s, double now_ms, double random) noexcept {
  if (s == nullptr) return 0;
  s->session.stop(to_tick(now_ms, random));
  return 1;
}
EMSCRIPTEN_KEEPALIVE int gm_session_disconnect(gm_session* s, double now_ms, double random) noexcept {
  if (s == nullptr) return 0;
  s->session.disconnect(to_tick(now_ms, random));
  return 1;
}
// An `event` frame that JavaScript parsed and checked (client_session::event_received): only its
// id, topic, time and snapshot flag (1: the frame's "snapshot":true) cross. The common outcomes
// need no JSON: 0 when nothing is to be done (no match, a duplicate), n > 0 when the one action
// is a deliver to n handles, now at gm_session_handles, followed there by its delivery delay in
// ms (NaN when the event's time did not parse): one read more, no call more.
// -1 when there are other actions (a notice, a close...): take them with gm_session_take_actions
// (the deliver, if any, has an empty "frame"). -2 without a session.
EMSCRIPTEN_KEEPALIVE int gm_session_event(gm_session* s, double now_ms, double random, double connection,
                                          const char* id, std::size_t id_size, const char* topic,
                                          std::size_t topic_size, const char* time, std::size_t time_size,
                                          int snapshot) noexcept {
  if (s == nullptr) return -2;
  s->session.event_received(to_tick(now_ms, random), to_uint64(connection), text(id, id_size), text(topic, topic_size),
                            text(time, time_size), snapshot != 0);
  const auto& actions = s->session.pending_actions();
  if (actions.empty()) return 0;
  const auto* d = actions.size() == 1 ? std::get_if<core::deliver_action>(&actions.front()) : nullptr;
  if (d == nullptr) return -1;  // left for gm_session_take_actions
  s->handles.assign(d->handles.begin(), d->handles.end());
  s->handles.push_back(d->delay_ms ? static_cast<double>(*d->delay_ms) : std::nan(""));
  s->session.take_actions();
  return static_cast<int>(s->handles.size() - 1);
}
// {"count":N,"p50_ms":N,"p99_ms":N,"clock_offset_ms":N} (core::latency_stats), or null without a session.
EMSCRIPTEN_KEEPALIVE char* gm_session_latency(gm_session* s) noexcept {
  if (s == nullptr) return hand_over("null");
  return hand_over(globemeet::wasm::latency_to_json(s->session.latency()));
}
// The n handles of the last deliver gm_session_event returned, then its delay, as doubles (valid
// until the next call).
EMSCRIPTEN_KEEPALIVE const double* gm_session_handles(gm_session* s) noexcept {
  return s == nullptr ? nullptr : s->handles.data();
}
// 1 when `id` is an event id and the session has not started, else 0.
EMSCRIPTEN_KEEPALIVE int gm_session_set_last_event_id(gm_session* s, const char* id, std::size_t size) noexcept {
  return s != nullptr && s->session.set_last_event_id(text(id, size)) ? 1 : 0;
}

// The actions since the last call, as a JSON array (shapes in README.md); "[]" for no session.
EMSCRIPTEN_KEEPALIVE char* gm_session_take_actions(gm_session* s) noexcept {
  if (s == nullptr) return hand_over("[]");
  return hand_over(globemeet::wasm::actions_to_json(s->session.take_actions()));
}
// {"state":"live","last_event_id":"6f1c2a9e-1042"|null,"final_code":0}
EMSCRIPTEN_KEEPALIVE char* gm_session_status(gm_session* s) noexcept {
  if (s == nullptr) return hand_over("{\"state\":null,\"last_event_id\":null,\"final_code\":0}");
  return hand_over(globemeet::wasm::status_to_json(s->session));
}

}  // extern "C"
