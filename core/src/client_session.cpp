// The client's connection state machine (docs/protocol.md sections 1, 5, 6.1, 7, 8, 9); the
// theory of operation is in client_session.hpp.
#include "globemeet/core/client_session.hpp"

#include <algorithm>
#include <iterator>
#include <set>
#include <utility>

#include "globemeet/core/codec.hpp"
#include "globemeet/core/event_id.hpp"
#include "globemeet/core/resume.hpp"
#include "globemeet/core/topic.hpp"

namespace globemeet::core {

namespace {

constexpr const char* subprotocol = "globemeet-events.v1";
constexpr std::size_t max_topics_per_subscribe = 64;  // docs/protocol.md section 10
constexpr std::int64_t rate_window_ms = 1'000;          // the server's request-rate window (section 10)
constexpr unsigned max_backoff_attempt = 64;          // the delay is capped long before this
constexpr unsigned expired_tokens_before_giving_up = 2;
constexpr std::uint16_t close_token_expired = 4001;
constexpr std::uint16_t close_invalid_token = 4401;
constexpr std::uint16_t close_too_many_connections = 4029;

// `exp` values come from tokens and frames: clamp absurd ones (before 1970, after the year
// 30,000) so that the deadline arithmetic below can never overflow.
std::int64_t seconds_to_ms(std::int64_t s) noexcept {
  constexpr std::int64_t latest_s = 900'000'000'000;
  return std::clamp<std::int64_t>(s, 0, latest_s) * 1000;
}

const char* op_name(const server_frame& f) noexcept {
  static constexpr const char* names[] = {"ready",     "subscribed", "replayed", "snapshotted", "unsubscribed",
                                          "refreshed", "pong",       "event",    "reset",       "overflow",
                                          "expiring",  "closing",    "error"};
  static_assert(std::size(names) == std::variant_size_v<server_frame>);
  return names[f.index()];
}

}  // namespace

const char* to_string(session_state s) noexcept {
  switch (s) {
    case session_state::idle: return "idle";
    case session_state::fetching_token: return "fetching_token";
    case session_state::connecting: return "connecting";
    case session_state::authenticating: return "authenticating";
    case session_state::live: return "live";
    case session_state::reconnecting: return "reconnecting";
    case session_state::closed: return "closed";
  }
  return "unknown";
}

const char* to_string(timer_kind k) noexcept {
  switch (k) {
    case timer_kind::reconnect: return "reconnect";
    case timer_kind::handshake: return "handshake";
    case timer_kind::heartbeat: return "heartbeat";
    case timer_kind::pong: return "pong";
    case timer_kind::refresh: return "refresh";
    case timer_kind::stable: return "stable";
    case timer_kind::resend: return "resend";
  }
  return "unknown";
}

const char* to_string(token_reason r) noexcept {
  switch (r) {
    case token_reason::connect: return "connect";
    case token_reason::refresh: return "refresh";
    case token_reason::expiring: return "expiring";
    case token_reason::expired: return "expired";
    case token_reason::refused: return "refused";
  }
  return "unknown";
}

const char* to_string(notice_kind k) noexcept {
  switch (k) {
    case notice_kind::reconnected: return "reconnected";
    case notice_kind::reset: return "reset";
    case notice_kind::overflow: return "overflow";
    case notice_kind::error: return "error";
    case notice_kind::subscription_failed: return "subscription_failed";
    case notice_kind::revoked: return "revoked";
    case notice_kind::token_expiring: return "token_expiring";
    case notice_kind::subscribed: return "subscribed";
    case notice_kind::snapshotted: return "snapshotted";
  }
  return "unknown";
}

bool is_final_close_code(std::uint16_t code) noexcept {
  switch (code) {
    case 1000:
    case 1002:
    case 1003:
    case 1007:
    case 1008:
    case 1009:
      return true;
    default:
      // 4400-4499 are final by rule; everything else, including unknown codes, reconnects.
      return code >= 4400 && code <= 4499;
  }
}

struct client_session::impl {
  // A request whose reply or error is still due on the current connection.
  struct pending_request {
    enum class kind { subscribe, unsubscribe, refresh, ping } what;
    std::vector<std::string> topics;
  };

  explicit impl(session_config c) : config(std::move(c)) {}

  session_config config;
  session_state state = session_state::idle;
  std::vector<action> actions;
  std::map<timer_kind, std::int64_t> armed;
  std::uint16_t final_code = 0;

  // Token.
  std::optional<std::string> token;
  std::optional<std::int64_t> token_exp_ms;  // from the JWT; nullopt for an opaque token
  bool token_requested = false;
  // Why the next connection's token is fetched: a token the server turned down says so until a
  // fresh one arrives, through any retries of a failing provider.
  token_reason connect_reason = token_reason::connect;
  unsigned expired_tokens_in_a_row = 0;
  bool refused_token_replaced = false;  // after a 4401, until a connection reaches `ready`

  // Resume and the user's subscriptions (they outlive connections).
  struct handle_state {
    std::string pattern;
    bool snapshot = false;       // asked for the current state
    std::string snapshot_req;    // the subscribe that brings it, while awaited on this connection
    bool snapshot_had = false;   // this connection brought it (or a replay made it unnecessary)
  };
  resume_state resume;
  std::uint64_t next_handle = 1;
  std::map<std::uint64_t, handle_state> handle_pattern;
  std::map<std::string, std::vector<std::uint64_t>> pattern_handles;  // ordered: deterministic frames
  latency_tracker latency;

  // Reconnecting.
  unsigned attempt = 0;
  std::optional<std::int64_t> closing_delay_ms;  // announced by `closing`, used once
  bool ever_ready = false;
  std::uint64_t next_req = 1;

  // The current connection; inputs about any other one are ignored.
  std::uint64_t connection = 0;
  bool connection_active = false;
  std::set<std::string> connection_patterns;  // subscribed or requested on this connection
  std::set<std::string> confirmed_patterns;   // those the server answered with `subscribed`
  std::set<std::string> unsubscribe_again;    // unsubscribes refused as rate_limited
  bool resume_refused = false;                // the server said `resume_not_allowed`: no more `from`
  std::string head_req;                       // the connection's first subscribe, sent without `from`
  std::string from_req;                       // the subscribe that carried `from`, until its `replayed`
  bool replaying = false;                     // between that request's `subscribed` and `replayed`
  std::map<std::string, pending_request> pending;
  std::int64_t heartbeat_ms = 0;
  std::int64_t connection_exp_ms = 0;
  std::string ping_req;
  std::int64_t ping_sent_ms = 0;
  unsigned refresh_failures = 0;

  // ---- small helpers ---------------------------------------------------------------------------
  void set_state(session_state to, std::uint16_t code, std::string reason) {
    if (to == state) return;
    actions.emplace_back(state_changed_action{state, to, code, std::move(reason)});
    state = to;
  }
  void arm(timer_kind k, std::int64_t at_ms) {
    armed[k] = at_ms;
    actions.emplace_back(arm_timer_action{k, at_ms});
  }
  void cancel(timer_kind k) {
    if (armed.erase(k) != 0) actions.emplace_back(cancel_timer_action{k});
  }
  void notice(notice_kind kind, std::string detail, std::string message, std::uint64_t handle = 0) {
    actions.emplace_back(notice_action{kind, std::move(detail), std::move(message), handle});
  }
  std::string request_id() { return std::to_string(next_req++); }
  void send(const client_frame& f) { actions.emplace_back(send_action{connection, codec::encode(f)}); }
  void request_token(token_reason reason) {
    if (token_requested) return;
    token_requested = true;
    actions.emplace_back(request_token_action{reason});
  }
  bool token_usable(std::int64_t now_ms) const {
    return token && (!token_exp_ms || *token_exp_ms - config.refresh_before_ms > now_ms);
  }
  std::int64_t retry_delay(unsigned& failures, double random01) {
    auto delay = backoff_delay(config.backoff, failures, random01);
    if (failures < max_backoff_attempt) ++failures;
    return delay;
  }

  // ---- connection lifecycle ----------------------------------------------------------------
  void begin_connect(const tick& t) {
    if (token_usable(t.now_ms)) {
      open_connection(t);
      return;
    }
    set_state(session_state::fetching_token, 0, "a token is needed");
    request_token(connect_reason);
  }

  void open_connection(const tick& t) {
    ++connection;
    connection_active = true;
    connection_patterns.clear();
    confirmed_patterns.clear();
    resume_refused = false;
    head_req.clear();
    from_req.clear();
    replaying = false;
    pending.clear();
    ping_req.clear();
    refresh_failures = 0;
    heartbeat_ms = config.default_heartbeat_ms;
    connection_exp_ms = 0;
    set_state(session_state::connecting, 0, "");
    actions.emplace_back(open_action{connection, config.endpoint, subprotocol,
                                     config.token_in_header ? "Bearer " + *token : std::string{},
                                     resume.last().value_or(std::string{})});
    arm(timer_kind::handshake, t.now_ms + config.handshake_timeout_ms);
  }

  void leave_connection() {
    for (auto k : {timer_kind::handshake, timer_kind::heartbeat, timer_kind::pong, timer_kind::refresh,
                   timer_kind::stable, timer_kind::resend})
      cancel(k);
    connection_active = false;
    connection_patterns.clear();
    confirmed_patterns.clear();
    unsubscribe_again.clear();
    pending.clear();
    ping_req.clear();
    from_req.clear();
    replaying = false;
    for (auto& entry : handle_pattern) {
      entry.second.snapshot_req.clear();
      entry.second.snapshot_had = false;
    }
  }

  void reconnect_later(const tick& t, std::uint16_t code, std::string reason) {
    auto delay = retry_delay(attempt, t.random);
    if (code == close_too_many_connections) delay = std::max(delay, config.backoff.min_ms);
    if (closing_delay_ms) delay = std::max(delay, *std::exchange(closing_delay_ms, std::nullopt));
    set_state(session_state::reconnecting, code, std::move(reason));
    arm(timer_kind::reconnect, t.now_ms + delay);
  }

  // The client gives up on the current connection itself and reconnects.
  void drop_connection(const tick& t, std::uint16_t code, std::string reason) {
    actions.emplace_back(close_action{connection, code, reason});
    leave_connection();
    reconnect_later(t, code, std::move(reason));
  }

  void finish(std::uint16_t code, std::string reason) {
    while (!armed.empty()) cancel(armed.begin()->first);
    connection_active = false;
    final_code = code;
    set_state(session_state::closed, code, std::move(reason));
  }

  // Ends the session for a reason the user did not choose, and says so: without the notice an
  // application would only see its events stop.
  void give_up(std::uint16_t code, std::string reason) {
    while (!armed.empty()) cancel(armed.begin()->first);  // so the notice comes just before `closed`
    std::string message = "stopped for good after close " + std::to_string(code);
    if (!reason.empty()) message += ": " + reason;
    actions.emplace_back(notice_action{notice_kind::error, "closed", std::move(message), 0, code, reason});
    finish(code, std::move(reason));
  }

  void arm_refresh(std::int64_t now_ms) {
    // Normally refresh_before_ms ahead of `exp`; a token that lives shorter than that is
    // refreshed halfway to its expiry instead of at once, so the provider is not hammered.
    auto at = connection_exp_ms - config.refresh_before_ms;
    if (at <= now_ms) at = now_ms + std::max<std::int64_t>(0, (connection_exp_ms - now_ms) / 2);
    arm(timer_kind::refresh, at);
  }

  void retry_refresh_later(const tick& t) {
    arm(timer_kind::refresh, t.now_ms + retry_delay(refresh_failures, t.random));
  }

  // ---- subscriptions -----------------------------------------------------------------------
  void send_subscribe(const std::vector<std::string>& topics) {
    for (std::size_t begin = 0; begin < topics.size(); begin += max_topics_per_subscribe) {
      subscribe_frame f;
      f.req = request_id();
      auto end = std::min(topics.size(), begin + max_topics_per_subscribe);
      f.topics.assign(topics.begin() + static_cast<std::ptrdiff_t>(begin),
                      topics.begin() + static_cast<std::ptrdiff_t>(end));
      // `from` is honoured only while the connection holds nothing (section 5.1).
      bool first = connection_patterns.empty();
      if (first && !resume_refused) f.from = resume.last();
      if (first && !f.from) head_req = f.req;
      if (f.from) from_req = f.req;
      f.conflate = config.conflate;
      // `snapshot` when a handle of one of its patterns asked and has not had it on this
      // connection; those handles await it now.
      for (const auto& pattern : f.topics) {
        const auto handles = pattern_handles.find(pattern);
        if (handles == pattern_handles.end()) continue;
        for (auto handle : handles->second) {
          auto h = handle_pattern.find(handle);
          if (h == handle_pattern.end() || !h->second.snapshot || h->second.snapshot_had) continue;
          f.snapshot = true;
          h->second.snapshot_req = f.req;
        }
      }
      connection_patterns.insert(f.topics.begin(), f.topics.end());
      pending[f.req] = pending_request{pending_request::kind::subscribe, f.topics};
      send(f);
    }
  }

  // The user loses every handle of `pattern`, each told why.
  void drop_pattern(const std::string& pattern, notice_kind kind, const std::string& detail,
                    const std::string& message) {
    auto it = pattern_handles.find(pattern);
    if (it == pattern_handles.end()) return;
    for (auto handle : it->second) {
      notice(kind, detail, message, handle);
      handle_pattern.erase(handle);
    }
    pattern_handles.erase(it);
  }

  std::vector<std::uint64_t> handles_for(std::string_view topic_name) const {
    std::vector<std::uint64_t> out;
    for (const auto& [pattern, handles] : pattern_handles)
      if (topic::matches(pattern, topic_name)) out.insert(out.end(), handles.begin(), handles.end());
    std::sort(out.begin(), out.end());
    return out;
  }

  // A snapshot event's receivers: the handles awaiting a snapshot whose pattern matches.
  std::vector<std::uint64_t> snapshot_handles_for(std::string_view topic_name) const {
    std::vector<std::uint64_t> out;
    for (const auto& [handle, h] : handle_pattern)
      if (!h.snapshot_req.empty() && topic::matches(h.pattern, topic_name)) out.push_back(handle);
    return out;
  }

  // The handles awaiting the snapshot of request `req` stop waiting; with `count`, each is told.
  void snapshot_done(const std::string& req, const std::optional<std::uint64_t>& count) {
    if (req.empty()) return;
    for (auto& [handle, h] : handle_pattern) {
      if (h.snapshot_req != req) continue;
      h.snapshot_req.clear();
      h.snapshot_had = true;
      if (count)
        notice(notice_kind::snapshotted, std::to_string(*count),
               "the snapshot of `" + h.pattern + "` is complete (" + std::to_string(*count) + " events)", handle);
    }
  }

  // ---- server frames -----------------------------------------------------------------------
  void on_frame(const tick& t, std::string_view text) {
    auto decoded = codec::decode_server(text);
    if (!decoded) {
      notice(notice_kind::error, "bad_frame", decoded.err().message);
      return;
    }
    const auto& f = decoded.value();
    // Nothing but `ready` comes before `ready` (section 1.1), except that a server may refuse
    // a stray request or announce that it goes away; `ready` comes once.
    bool expected = state == session_state::authenticating
                        ? std::holds_alternative<ready_frame>(f) || std::holds_alternative<closing_frame>(f) ||
                              std::holds_alternative<error_frame>(f)
                        : !std::holds_alternative<ready_frame>(f);
    if (!expected) {
      notice(notice_kind::error, "bad_frame",
             std::string("unexpected `") + op_name(f) + "` while " + to_string(state));
      return;
    }
    std::visit([&](const auto& frame) { on(t, text, frame); }, f);
  }

  void on(const tick& t, std::string_view, const ready_frame& f) {
    cancel(timer_kind::handshake);
    refused_token_replaced = false;  // the token was taken: a later 4401 may be a new key again
    set_state(session_state::live, 0, "");
    heartbeat_ms = f.heartbeat_ms > 0 ? f.heartbeat_ms : config.default_heartbeat_ms;
    connection_exp_ms = seconds_to_ms(f.exp);
    latency.on_ready(f.time_ms, t.now_ms);
    std::vector<std::string> topics;
    for (const auto& entry : pattern_handles) topics.push_back(entry.first);
    send_subscribe(topics);
    arm(timer_kind::heartbeat, t.now_ms + heartbeat_ms);
    arm_refresh(t.now_ms);
    arm(timer_kind::stable, t.now_ms + config.stable_after_ms);
    if (ever_ready) notice(notice_kind::reconnected, "", "live again; resuming after the last event");
    ever_ready = true;
  }

  void on(const tick&, std::string_view, const subscribed_frame& f) {
    pending.erase(f.req);
    // Without `from` there is no replay and live delivery starts after `head`: until an event
    // arrives that is the position to resume from, so an outage before it loses nothing. Only
    // the first subscribe qualifies: a later `head` may lie beyond a replay still under way.
    if (f.req == head_req && !resume.last() && f.head) resume.set_last(*f.head);
    if (!f.req.empty() && f.req == from_req) replaying = true;
    for (const auto& pattern : f.topics) {
      // A pattern unsubscribed meanwhile, or one the connection no longer asks for, has no one to tell.
      if (connection_patterns.count(pattern) == 0 || !confirmed_patterns.insert(pattern).second) continue;
      auto it = pattern_handles.find(pattern);
      if (it == pattern_handles.end()) continue;
      for (auto handle : it->second) notice(notice_kind::subscribed, pattern, "subscribed to `" + pattern + "`", handle);
    }
  }
  void on(const tick&, std::string_view, const replayed_frame& f) {
    if (!f.req.empty() && f.req == from_req) {
      replaying = false;
      from_req.clear();
    }
    snapshot_done(f.req, std::nullopt);  // the resume was possible: the replay brought them up to date
  }
  void on(const tick&, std::string_view, const snapshotted_frame& f) { snapshot_done(f.req, f.count); }

  void on(const tick&, std::string_view, const unsubscribed_frame& f) {
    if (!f.req.empty()) pending.erase(f.req);
    for (const auto& pattern : f.topics) {
      connection_patterns.erase(pattern);
      confirmed_patterns.erase(pattern);
      // Anything but the client's own request takes the pattern away from the user.
      if (f.reason != "requested")
        drop_pattern(pattern, notice_kind::revoked, f.reason, "the server removed `" + pattern + "`");
    }
  }

  void on(const tick& t, std::string_view, const refreshed_frame& f) {
    pending.erase(f.req);
    connection_exp_ms = seconds_to_ms(f.exp);
    refresh_failures = 0;
    arm_refresh(t.now_ms);
  }

  void on(const tick& t, std::string_view, const pong_frame& f) {
    if (ping_req.empty() || f.req != ping_req) return;  // not the pong we wait for
    if (f.time_ms) latency.on_pong(*f.time_ms, ping_sent_ms, t.now_ms);
    pending.erase(f.req);
    ping_req.clear();
    cancel(timer_kind::pong);
    arm(timer_kind::heartbeat, std::max(t.now_ms, ping_sent_ms + heartbeat_ms));
  }

  void on(const tick& t, std::string_view text, const event_frame& f) {
    on_event(t, text, f.ev.id, f.ev.topic, f.ev.time, f.ev.snapshot, &f.ev);
  }

  // The deliver action's envelope: the decoded one, or for event_received only id, topic and snapshot.
  static event event_for(std::string_view id, std::string_view topic_name, bool snapshot, const event* ev) {
    if (ev != nullptr) return *ev;
    event out{std::string(id), {}, {}, {}, {}, std::string(topic_name), {}, {}};
    out.snapshot = snapshot;
    return out;
  }

  // A snapshot event: older than the position, so neither duplicate suppression nor the last id
  // applies (section 5.3); only the handles awaiting a snapshot get it, and it is not measured.
  void on_snapshot_event(const tick& t, std::string_view text, std::string_view id, std::string_view topic_name,
                         std::string_view time, const event* ev) {
    if (!event_id::parse_event(id)) {
      notice(notice_kind::error, "bad_frame", "event id `" + std::string(id.substr(0, 64)) + "` is not an event id");
      return;
    }
    auto handles = snapshot_handles_for(topic_name);
    if (handles.empty()) return;
    actions.emplace_back(deliver_action{std::string(text), event_for(id, topic_name, true, ev), std::move(handles),
                                        true, latency.delay_ms(time, t.now_ms)});
  }

  // One event, from `frame` (`ev` decoded, `text` its JSON) or from `event_received` (no `ev`,
  // no text: the deliver action then carries only id, topic and snapshot).
  void on_event(const tick& t, std::string_view text, std::string_view id, std::string_view topic_name,
                std::string_view time, bool snapshot, const event* ev) {
    // Handles are matched against the topic, so it must be a name; checked before the id is
    // taken as the last one, so that a refused event leaves the resume position alone (an id
    // that is not an event id is refused by accept(), which then changes nothing).
    if (auto bad = topic::validate_name(topic_name)) {
      notice(notice_kind::error, "bad_frame", "member 'topic': " + bad->message);
      return;
    }
    if (snapshot) return on_snapshot_event(t, text, id, topic_name, time, ev);
    switch (resume.accept(id)) {
      case resume_state::verdict::deliver: {
        auto handles = handles_for(topic_name);
        if (handles.empty()) return;
        const auto delay = latency.delay_ms(time, t.now_ms);
        if (delay && !replaying) latency.record(*delay);
        actions.emplace_back(deliver_action{std::string(text), event_for(id, topic_name, false, ev),
                                            std::move(handles), false, delay});
        return;
      }
      case resume_state::verdict::duplicate:
        return;
      case resume_state::verdict::epoch_changed:
        notice(notice_kind::error, "epoch_changed",
               "event `" + std::string(id) + "` is from another epoch without a `reset`");
        drop_connection(t, close_protocol_violation, "event from another epoch without reset");
        return;
      case resume_state::verdict::invalid_id:
        notice(notice_kind::error, "bad_frame", "event id `" + std::string(id.substr(0, 64)) + "` is not an event id");
        return;
    }
  }

  void on(const tick&, std::string_view, const reset_frame& f) {
    resume.reset_to(f.position);
    // "after {epoch}-0" would read as if an event had come; say what it means.
    const auto position = f.position ? event_id::parse(*f.position) : std::nullopt;
    const std::string where = !position ? "from the start of the log"
                              : position->names_event() ? "after " + position->str()
                                                        : "from the start of epoch " + position->epoch;
    notice(notice_kind::reset, f.reason,
           "resume from " + f.from.value_or("nothing") + " impossible; continuing " + where);
  }

  void on(const tick&, std::string_view, const overflow_frame& f) {
    notice(notice_kind::overflow, f.last_id.value_or(""),
           "the server fell " + std::to_string(f.lag_ms) + " ms behind; reconnecting to resume");
  }

  void on(const tick&, std::string_view, const expiring_frame& f) {
    notice(notice_kind::token_expiring, "",
           "the token expires at " + std::to_string(f.exp) + " (grace " + std::to_string(f.grace_ms) + " ms)");
    request_token(token_reason::expiring);
  }

  void on(const tick&, std::string_view, const closing_frame& f) {
    closing_delay_ms = std::max<std::int64_t>(0, f.reconnect_after_ms);
  }

  void on(const tick& t, std::string_view, const error_frame& f) {
    auto it = f.req.empty() ? pending.end() : pending.find(f.req);
    if (it == pending.end()) {
      notice(notice_kind::error, f.code, f.message);
      return;
    }
    auto request = std::move(it->second);
    pending.erase(it);
    if (f.code == "rate_limited") {
      on_rate_limited(t, f.req, request);
      return;
    }
    switch (request.what) {
      case pending_request::kind::subscribe:
        on_subscribe_refused(f, request.topics);
        return;
      case pending_request::kind::refresh:
        // The refused token must not open the next connection either.
        notice(notice_kind::error, f.code, f.message);
        token.reset();
        token_exp_ms.reset();
        retry_refresh_later(t);
        return;
      case pending_request::kind::ping:
        // A refused ping (rate_limited) still proves the connection alive: no pong will come.
        notice(notice_kind::error, f.code, f.message);
        if (f.req == ping_req) {
          ping_req.clear();
          cancel(timer_kind::pong);
          arm(timer_kind::heartbeat, std::max(t.now_ms, ping_sent_ms + heartbeat_ms));
        }
        return;
      case pending_request::kind::unsubscribe:
        notice(notice_kind::error, f.code, f.message);
        return;
    }
  }

  // Refused for coming too fast: nothing was applied, and nothing is wrong that the application
  // could act on. The request goes out again after the server's one-second window.
  void on_rate_limited(const tick& t, const std::string& req, const pending_request& request) {
    switch (request.what) {
      case pending_request::kind::subscribe:
        for (const auto& pattern : request.topics) connection_patterns.erase(pattern);
        break;
      case pending_request::kind::unsubscribe:
        for (const auto& pattern : request.topics)
          if (pattern_handles.count(pattern) == 0) unsubscribe_again.insert(pattern);
        break;
      case pending_request::kind::refresh:
        retry_refresh_later(t);  // the token is good, only early: keep it
        return;
      case pending_request::kind::ping:
        // Still proof that the connection is alive: no pong will come, the next ping will.
        if (req == ping_req) {
          ping_req.clear();
          cancel(timer_kind::pong);
          arm(timer_kind::heartbeat, std::max(t.now_ms, ping_sent_ms + heartbeat_ms));
        }
        return;
    }
    if (armed.count(timer_kind::resend) == 0) arm(timer_kind::resend, t.now_ms + rate_window_ms);
  }

  // What rate_limited held back: every wanted pattern the connection does not hold, and every
  // unwanted one it still does.
  void resend(const tick&) {
    std::vector<std::string> wanted;
    for (const auto& entry : pattern_handles)
      if (connection_patterns.count(entry.first) == 0) wanted.push_back(entry.first);
    if (!wanted.empty()) send_subscribe(wanted);
    std::vector<std::string> unwanted;
    for (const auto& pattern : std::exchange(unsubscribe_again, {}))
      if (pattern_handles.count(pattern) == 0) unwanted.push_back(pattern);
    if (unwanted.empty()) return;
    unsubscribe_frame f{request_id(), std::move(unwanted)};
    pending[f.req] = pending_request{pending_request::kind::unsubscribe, f.topics};
    send(f);
  }

  // A refused `subscribe` applied none of its patterns (section 2.2: the request was refused).
  void on_subscribe_refused(const error_frame& f, const std::vector<std::string>& topics) {
    std::vector<std::string> retry;
    for (const auto& pattern : topics)
      if (connection_patterns.erase(pattern) != 0 && pattern_handles.count(pattern) != 0) retry.push_back(pattern);
    if (f.code == "invalid_topic" || f.code == "forbidden_topic") {
      auto named = std::find(retry.begin(), retry.end(), f.topic);
      if (named == retry.end()) {
        // The culprit is not named: every pattern of the request fails.
        for (const auto& pattern : retry) drop_pattern(pattern, notice_kind::subscription_failed, f.code, f.message);
        return;
      }
      drop_pattern(*named, notice_kind::subscription_failed, f.code, f.message);
      retry.erase(named);
      send_subscribe(retry);  // the innocent rest, once more (each refusal removes one culprit)
    } else if (f.code == "too_many_subscriptions") {
      for (const auto& pattern : retry) drop_pattern(pattern, notice_kind::subscription_failed, f.code, f.message);
    } else if (f.code == "resume_not_allowed") {
      resume_refused = true;
      send_subscribe(retry);
    } else {
      notice(notice_kind::error, f.code, f.message);
    }
  }
};

// ---- the public API --------------------------------------------------------------------------

client_session::client_session(session_config config) : impl_(std::make_unique<impl>(std::move(config))) {}
client_session::~client_session() = default;
client_session::client_session(client_session&&) noexcept = default;
client_session& client_session::operator=(client_session&&) noexcept = default;

void client_session::start(const tick& t) {
  if (impl_->state != session_state::idle) return;
  impl_->begin_connect(t);
}

void client_session::token_obtained(const tick& t, std::string token) {
  auto& s = *impl_;
  s.token_requested = false;
  if (s.state == session_state::closed) return;
  auto exp_s = codec::jwt_expiry(token);
  std::optional<std::int64_t> exp_ms;
  if (exp_s) exp_ms = seconds_to_ms(*exp_s);
  bool expired = exp_ms && *exp_ms <= t.now_ms;

  if (s.state == session_state::fetching_token) {
    if (expired) {
      if (++s.expired_tokens_in_a_row >= expired_tokens_before_giving_up) {
        s.give_up(close_token_expired, "token expired and the provider gave no fresh one");
      } else {
        s.reconnect_later(t, 0, "the token provider returned an expired token");
      }
      return;
    }
    s.expired_tokens_in_a_row = 0;
    s.connect_reason = token_reason::connect;
    s.token = std::move(token);
    s.token_exp_ms = exp_ms;
    s.open_connection(t);
    return;
  }

  if (expired) {
    if (s.state == session_state::live) s.retry_refresh_later(t);
    return;
  }
  s.expired_tokens_in_a_row = 0;
  bool newer = !exp_ms || *exp_ms > s.connection_exp_ms;
  s.token = std::move(token);
  s.token_exp_ms = exp_ms;
  if (s.state != session_state::live) return;  // kept for the next connection
  if (!newer) {
    s.retry_refresh_later(t);  // the provider handed back what the server already has
    return;
  }
  refresh_frame f{s.request_id(), *s.token};
  s.pending[f.req] = impl::pending_request{impl::pending_request::kind::refresh, {}};
  s.send(f);
}

void client_session::token_failed(const tick& t, std::string_view reason) {
  auto& s = *impl_;
  s.token_requested = false;
  if (s.state == session_state::fetching_token) {
    s.notice(notice_kind::error, "token_unavailable", std::string(reason));
    s.reconnect_later(t, 0, "the token provider failed: " + std::string(reason));
  } else if (s.state == session_state::live) {
    // The connection keeps its current token until the server closes it with 4001.
    s.notice(notice_kind::error, "token_unavailable", std::string(reason));
    s.retry_refresh_later(t);
  }
}

void client_session::opened(const tick&, std::uint64_t connection) {
  auto& s = *impl_;
  if (!s.connection_active || connection != s.connection || s.state != session_state::connecting) return;
  if (!s.config.token_in_header) s.send(auth_frame{*s.token});
  s.set_state(session_state::authenticating, 0, "");
}

void client_session::frame(const tick& t, std::uint64_t connection, std::string_view text) {
  auto& s = *impl_;
  if (!s.connection_active || connection != s.connection) return;
  if (s.state != session_state::authenticating && s.state != session_state::live) return;
  s.on_frame(t, text);
}

void client_session::event_received(const tick& t, std::uint64_t connection, std::string_view id,
                                    std::string_view topic_name, std::string_view time, bool snapshot) {
  auto& s = *impl_;
  if (!s.connection_active || connection != s.connection) return;
  if (s.state == session_state::authenticating) {
    s.notice(notice_kind::error, "bad_frame", "unexpected `event` while authenticating");
    return;
  }
  if (s.state != session_state::live) return;
  s.on_event(t, {}, id, topic_name, time, snapshot, nullptr);
}

void client_session::closed(const tick& t, std::uint64_t connection, std::uint16_t code, std::string_view reason) {
  auto& s = *impl_;
  if (!s.connection_active || connection != s.connection) return;
  s.leave_connection();
  // A refused token is no proof that every token would be: a server that restarted with a new
  // signing key refuses all it issued before. A provider may mint one the server takes, so it
  // is asked once; a second refusal in a row means the credentials themselves are wrong.
  const bool ask_for_new_token =
      code == close_invalid_token && s.config.token_provider && !std::exchange(s.refused_token_replaced, true);
  if (is_final_close_code(code) && !ask_for_new_token) {
    s.give_up(code, std::string(reason));
    return;
  }
  if (code == close_token_expired || ask_for_new_token) {
    s.token.reset();
    s.token_exp_ms.reset();
    s.connect_reason = ask_for_new_token ? token_reason::refused : token_reason::expired;
  }
  s.reconnect_later(t, code, std::string(reason));
}

void client_session::timer_fired(const tick& t, timer_kind timer) {
  auto& s = *impl_;
  if (s.armed.erase(timer) == 0) return;  // cancelled or replaced: a stale expiry
  switch (timer) {
    case timer_kind::reconnect:
      if (s.state == session_state::reconnecting) s.begin_connect(t);
      return;
    case timer_kind::handshake:
      if (s.state == session_state::connecting || s.state == session_state::authenticating)
        s.drop_connection(t, close_handshake_timeout, "no ready within the handshake timeout");
      return;
    case timer_kind::heartbeat:
      if (s.state != session_state::live) return;
      s.ping_req = s.request_id();
      s.ping_sent_ms = t.now_ms;
      s.pending[s.ping_req] = impl::pending_request{impl::pending_request::kind::ping, {}};
      s.send(ping_frame{s.ping_req});
      s.arm(timer_kind::pong, t.now_ms + s.heartbeat_ms);
      return;
    case timer_kind::pong:
      if (s.state == session_state::live) s.drop_connection(t, close_heartbeat_timeout, "no pong within heartbeat_ms");
      return;
    case timer_kind::refresh:
      if (s.state == session_state::live) s.request_token(token_reason::refresh);
      return;
    case timer_kind::stable:
      if (s.state == session_state::live) s.attempt = 0;
      return;
    case timer_kind::resend:
      if (s.state == session_state::live) s.resend(t);
      return;
  }
}

result<std::uint64_t> client_session::subscribe(const tick&, std::string_view pattern, subscribe_options options) {
  auto& s = *impl_;
  if (auto invalid = topic::validate_pattern(pattern)) return *invalid;
  auto handle = s.next_handle++;
  std::string key(pattern);
  s.handle_pattern.emplace(handle, impl::handle_state{key, options.snapshot, {}});
  auto& handles = s.pattern_handles[key];
  handles.push_back(handle);
  if (s.state != session_state::live) return handle;
  const bool held = s.connection_patterns.count(key) != 0;
  if (held && s.confirmed_patterns.count(key) != 0)
    s.notice(notice_kind::subscribed, key, "subscribed to `" + key + "`", handle);
  // A held pattern is asked for again when this handle wants its current state (section 5.3).
  // (A pattern with other handles that is not held waits for the resend timer: rate_limited.)
  if ((handles.size() == 1 && !held) || (held && options.snapshot)) s.send_subscribe({key});
  return handle;
}

void client_session::unsubscribe(const tick&, std::uint64_t handle) {
  auto& s = *impl_;
  auto it = s.handle_pattern.find(handle);
  if (it == s.handle_pattern.end()) return;
  auto pattern = std::move(it->second.pattern);
  s.handle_pattern.erase(it);
  auto& handles = s.pattern_handles[pattern];
  handles.erase(std::remove(handles.begin(), handles.end(), handle), handles.end());
  if (!handles.empty()) return;
  s.pattern_handles.erase(pattern);
  s.confirmed_patterns.erase(pattern);
  if (s.state != session_state::live || s.connection_patterns.erase(pattern) == 0) return;
  unsubscribe_frame f{s.request_id(), {pattern}};
  s.pending[f.req] = impl::pending_request{impl::pending_request::kind::unsubscribe, f.topics};
  s.send(f);
}

void client_session::stop(const tick&) {
  auto& s = *impl_;
  if (s.state == session_state::closed) return;
  if (s.connection_active) {
    s.actions.emplace_back(close_action{s.connection, close_normal, "client stopped"});
    s.leave_connection();
  }
  s.finish(close_normal, "stopped by the client");
}

void client_session::disconnect(const tick&) {
  auto& s = *impl_;
  if (s.state == session_state::closed || s.state == session_state::idle) return;
  if (s.connection_active) {
    s.actions.emplace_back(close_action{s.connection, close_normal, "client disconnected"});
    s.leave_connection();
  }
  while (!s.armed.empty()) s.cancel(s.armed.begin()->first);
  s.attempt = 0;  // the user chose the pause: the next start() is not a retry
  s.closing_delay_ms.reset();
  s.set_state(session_state::idle, close_normal, "disconnected by the client");
}

std::vector<action> client_session::take_actions() { return std::exchange(impl_->actions, {}); }
const std::vector<action>& client_session::pending_actions() const noexcept { return impl_->actions; }

session_state client_session::state() const noexcept { return impl_->state; }

std::optional<std::string> client_session::last_event_id() const { return impl_->resume.last(); }

bool client_session::set_last_event_id(std::string_view id) {
  if (impl_->state != session_state::idle) return false;
  return impl_->resume.set_last(id);
}

std::uint16_t client_session::final_code() const noexcept { return impl_->final_code; }

latency_stats client_session::latency() const { return impl_->latency.stats(); }

}  // namespace globemeet::core
