// A scripted GlobeMeet server and a virtual clock, in the test's own process, for driving a
// client_session deterministically (docs/protocol.md is the contract both sides follow).
//
// virtual_server plays the server's side of the protocol for the connections the session opens:
// it checks tokens, sends `ready`, applies subscribe/unsubscribe/refresh/ping, replays its event
// log on resume (with `reset` when it must), sends `expiring` and closes 4001 when a token runs
// out. The test scripts everything else: publish events, restart with a new epoch or key, drop
// connections with a code, stall and overflow, revoke permissions, inject raw frames.
//
// harness performs the session's actions the way an adapter would: open/send/close go to the
// server, whose answers queue up as inputs; request_token is answered from a script; timers are
// kept in a table. Time only moves when nothing is pending: it jumps to the next deadline of
// the session or the server. A bound on the steps turns a livelock into a test failure.
#pragma once
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "globemeet/core/client_session.hpp"
#include "globemeet/core/codec.hpp"
#include "globemeet/core/event_id.hpp"
#include "globemeet/core/topic.hpp"

namespace globemeet::test {

namespace core = globemeet::core;

inline constexpr std::int64_t virtual_epoch_ms = 1'795'000'000'000;  // Nov 2026, Unix ms

// ---- tokens ----------------------------------------------------------------------------------

inline std::string base64url(std::string_view in) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : in) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(buffer >> bits) & 0x3f];
    }
  }
  if (bits > 0) out += alphabet[(buffer << (6 - bits)) & 0x3f];
  return out;
}

// An unsigned JWT-shaped token: the client only reads `exp`; the virtual server trusts it.
// `serial` makes every token distinct, as a real provider's would be.
inline std::string make_token(std::int64_t exp_s, int serial = 0) {
  return base64url(R"({"alg":"HS256","typ":"JWT","kid":"k1"})") + "." +
         base64url(R"({"iss":"globemeet","aud":"globemeet-events","sub":"console","tenant":"acme","jti":")" +
                   std::to_string(serial) + R"(","exp":)" + std::to_string(exp_s) + "}") +
         ".c2lnbmF0dXJl";
}

// ---- the server ------------------------------------------------------------------------------

// What the scripted server does; tests change these between steps, too.
struct server_settings {
  std::string epoch = "a1";
  std::int64_t heartbeat_ms = 20'000;
  bool answer_pings = true;
  std::vector<std::string> perms = {">"};
  std::size_t max_patterns = 256;
  std::int64_t expiring_before_ms = 60'000;
  std::int64_t grace_ms = 30'000;
  std::optional<std::uint16_t> refuse_with;  // every handshake fails with this close code
  bool black_hole = false;                   // handshakes never complete
  std::uint64_t replay_overlap = 0;          // a sloppy server: replay re-sends this many old events
  bool null_heads = false;                   // an old server: `head` and `reset.position` null, never `{epoch}-0`
  std::set<std::string> refused_tokens;      // refused with 4401 as if signed with another key
  std::int64_t clock_offset_ms = 0;          // the server's clock minus the test's (ready/pong time_ms)
  bool sends_time = true;                    // false: a server before `time_ms`
};

class virtual_server {
 public:
  using settings = server_settings;

  // What the adapter would report to the session.
  struct to_client {
    enum class kind { opened, frame, closed } what;
    std::uint64_t connection = 0;
    std::string text;  // frame
    std::uint16_t code = 0;
    std::string reason;
  };

  explicit virtual_server(settings s = {}) : cfg(std::move(s)) {}

  settings cfg;
  std::deque<to_client> outbox;
  std::vector<std::pair<std::uint64_t, core::client_frame>> received;  // every client frame, decoded
  std::vector<core::open_action> opens;                                // every handshake attempt

  // ---- the script ----------------------------------------------------------------------------
  std::string publish(std::string_view topic, std::string data_json = {}) {
    auto segments = split(topic);
    REQUIRE(segments.size() == 3);
    core::event ev;
    ev.id = cfg.epoch + "-" + std::to_string(next_seq_);
    ev.source = "/tenants/acme/" + segments[0] + "s/" + segments[1];
    ev.type = segments[0] + "." + segments[2];
    ev.subject = segments[1];
    ev.time = "2026-11-27T18:02:11.204Z";
    ev.topic = std::string(topic);
    ev.tenant = "acme";
    ev.data_json = data_json.empty() ? R"({"queue_id":")" + segments[1] + R"(","depth":)" +
                                           std::to_string(next_seq_) + R"(,"longest_wait_seconds":4})"
                                     : std::move(data_json);
    log_.push_back({next_seq_++, ev, core::codec::encode_event(ev)});
    if (!stalled_)
      for (auto& [id, c] : connections_)
        if (c.authenticated && c.open && matches_any(c.patterns, ev.topic)) send_event(c, log_.back());
    return ev.id;
  }

  // The log keeps only events with seq >= `seq` (retention).
  void retain_from(std::uint64_t seq) { oldest_retained_ = seq; }

  // Close every connection; with a new epoch the log starts again (the server lost it).
  void restart(std::optional<std::string> new_epoch, std::uint16_t code = 1012,
               std::optional<std::int64_t> reconnect_after_ms = std::nullopt) {
    for (auto& [id, c] : connections_) {
      if (!c.open) continue;
      if (reconnect_after_ms) send(c, core::closing_frame{"restart", *reconnect_after_ms});
      close(c, code, "restart");
    }
    if (new_epoch) {
      cfg.epoch = *new_epoch;
      log_.clear();
      next_seq_ = 1;
      oldest_retained_ = 1;
    }
  }

  // A new signing key (a restart without a persistent key): every token the server has taken
  // so far is refused from now on; tokens minted later verify.
  void change_key() { cfg.refused_tokens.insert(taken_tokens_.begin(), taken_tokens_.end()); }

  void drop_all(std::uint16_t code, std::string reason = "dropped") {
    for (auto& [id, c] : connections_)
      if (c.open) close(c, code, reason);
  }

  // While stalled, published events are logged but not delivered (a slow client's queue).
  void stall(bool on) { stalled_ = on; }
  void overflow_all(std::int64_t lag_ms) {
    for (auto& [id, c] : connections_) {
      if (!c.open) continue;
      send(c, core::overflow_frame{lag_ms, c.last_delivered});
      close(c, 4000, "overflow");
    }
  }

  // Narrow the permissions (as a refresh with a smaller token would) and revoke what they no
  // longer allow, as the server does in section 6.1.
  void revoke_to(std::vector<std::string> perms) {
    cfg.perms = std::move(perms);
    for (auto& [id, c] : connections_) {
      if (!c.open || !c.authenticated) continue;
      core::unsubscribed_frame f{"", {}, "permission_revoked"};
      for (const auto& p : c.patterns)
        if (!permitted(p)) f.topics.push_back(p);
      for (const auto& p : f.topics) c.patterns.erase(p);
      if (!f.topics.empty()) send(c, f);
    }
  }

  // A raw frame, for misbehaving-server scenarios.
  void inject(std::string text) {
    for (auto& [id, c] : connections_)
      if (c.open) outbox.push_back({to_client::kind::frame, c.id, text, 0, {}});
  }

  std::size_t open_connections() const {
    return static_cast<std::size_t>(
        std::count_if(connections_.begin(), connections_.end(), [](const auto& e) { return e.second.open; }));
  }
  // `{epoch}-0` before the first event, as the real server names it; `null_heads` plays a
  // server from before that.
  std::optional<std::string> head() const {
    if (log_.empty()) return cfg.null_heads ? std::nullopt : std::optional<std::string>(cfg.epoch + "-0");
    return log_.back().ev.id;
  }

  // ---- the adapter side: what the session's actions do ---------------------------------------
  void on_open(std::int64_t now_ms, const core::open_action& a) {
    opens.push_back(a);
    REQUIRE(a.subprotocol == "globemeet-events.v1");
    auto& c = connections_[a.connection];
    c.id = a.connection;
    c.last_event_id_header = a.last_event_id;
    if (cfg.black_hole) return;
    if (cfg.refuse_with) {
      outbox.push_back({to_client::kind::closed, c.id, {}, *cfg.refuse_with, "handshake refused"});
      return;
    }
    if (!a.authorization.empty()) {
      REQUIRE(a.authorization.rfind("Bearer ", 0) == 0);
      auto token = a.authorization.substr(7);
      if (!token_valid(now_ms, token)) {  // HTTP 401, reported as 4401 by the adapter
        outbox.push_back({to_client::kind::closed, c.id, {}, 4401, "invalid_token"});
        return;
      }
      c.open = true;
      outbox.push_back({to_client::kind::opened, c.id, {}, 0, {}});
      now_ms_ = now_ms;
      authenticate(c, token);
      return;
    }
    c.open = true;
    outbox.push_back({to_client::kind::opened, c.id, {}, 0, {}});
  }

  void on_send(std::int64_t now_ms, const core::send_action& a) {
    auto decoded = core::codec::decode_client(a.text);
    INFO(a.text);
    REQUIRE(decoded.ok());
    REQUIRE(a.text.size() <= core::codec::max_client_frame_bytes);
    received.emplace_back(a.connection, decoded.value());
    auto it = connections_.find(a.connection);
    REQUIRE(it != connections_.end());
    auto& c = it->second;
    if (!c.open) return;  // in flight when the connection went away
    now_ms_ = now_ms;
    std::visit([&](const auto& f) { on_frame(now_ms, c, f); }, decoded.value());
  }

  void on_close(const core::close_action& a) {
    auto it = connections_.find(a.connection);
    if (it == connections_.end()) return;
    // The socket reports the close the client started, late, like a real one does.
    if (it->second.open) outbox.push_back({to_client::kind::closed, a.connection, {}, a.code, a.reason});
    it->second.open = false;
  }

  // ---- the server's own deadlines (token expiry) ---------------------------------------------
  std::optional<std::int64_t> next_deadline() const {
    std::optional<std::int64_t> next;
    for (const auto& [id, c] : connections_) {
      if (!c.open || !c.authenticated) continue;
      auto at = c.expiring_sent ? c.exp_ms + cfg.grace_ms : c.exp_ms - cfg.expiring_before_ms;
      if (!next || at < *next) next = at;
    }
    return next;
  }

  void advance(std::int64_t now_ms) {
    for (auto& [id, c] : connections_) {
      if (!c.open || !c.authenticated) continue;
      if (!c.expiring_sent && now_ms >= c.exp_ms - cfg.expiring_before_ms) {
        c.expiring_sent = true;
        send(c, core::expiring_frame{c.exp_ms / 1000, cfg.grace_ms});
      }
      if (c.expiring_sent && now_ms >= c.exp_ms + cfg.grace_ms) close(c, 4001, "token_expired");
    }
  }

 private:
  struct stored_event {
    std::uint64_t seq;
    core::event ev;
    std::string text;
  };
  struct connection {
    std::uint64_t id = 0;
    bool open = false;
    bool authenticated = false;
    bool expiring_sent = false;
    std::int64_t exp_ms = 0;
    std::string last_event_id_header;
    std::set<std::string> patterns;
    std::optional<std::string> last_delivered;
  };

  static std::vector<std::string> split(std::string_view s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
      auto dot = s.find('.', start);
      out.emplace_back(s.substr(start, dot - start));
      if (dot == std::string_view::npos) return out;
      start = dot + 1;
    }
  }
  static bool matches_any(const std::set<std::string>& patterns, std::string_view name) {
    return std::any_of(patterns.begin(), patterns.end(),
                       [&](const std::string& p) { return core::topic::matches(p, name); });
  }
  bool permitted(std::string_view pattern) const {
    return std::any_of(cfg.perms.begin(), cfg.perms.end(),
                       [&](const std::string& p) { return core::topic::contains(p, pattern); });
  }
  bool token_valid(std::int64_t now_ms, std::string_view token) const {
    auto exp = core::codec::jwt_expiry(token);
    return exp && *exp * 1000 > now_ms && cfg.refused_tokens.count(std::string(token)) == 0;
  }

  void send(connection& c, const core::server_frame& f) {
    outbox.push_back({to_client::kind::frame, c.id, core::codec::encode(f), 0, {}});
  }
  void send_event(connection& c, const stored_event& e) {
    outbox.push_back({to_client::kind::frame, c.id, e.text, 0, {}});
    c.last_delivered = e.ev.id;
  }
  void close(connection& c, std::uint16_t code, std::string reason) {
    c.open = false;
    outbox.push_back({to_client::kind::closed, c.id, {}, code, std::move(reason)});
  }

  void authenticate(connection& c, std::string_view token) {
    taken_tokens_.emplace(token);
    c.authenticated = true;
    c.exp_ms = *core::codec::jwt_expiry(token) * 1000;
    c.expiring_sent = false;  // a token already inside its warning window is warned next step
    send(c, core::ready_frame{"console", "acme", c.exp_ms / 1000, cfg.heartbeat_ms, head(), server_time()});
  }
  std::optional<std::int64_t> server_time() const {
    return cfg.sends_time ? std::optional<std::int64_t>(now_ms_ + cfg.clock_offset_ms) : std::nullopt;
  }
  void error(connection& c, std::string req, std::string code, std::string topic = {}) {
    send(c, core::error_frame{std::move(req), code, "refused: " + code, std::move(topic)});
  }

  void on_frame(std::int64_t now_ms, connection& c, const core::auth_frame& f) {
    if (c.authenticated) return error(c, "", "already_authenticated");
    if (!token_valid(now_ms, f.token)) return close(c, 4401, "invalid_token");
    authenticate(c, f.token);
  }

  void on_frame(std::int64_t, connection& c, const core::subscribe_frame& f) {
    if (!c.authenticated) return error(c, f.req, "auth_required");
    for (const auto& t : f.topics)
      if (core::topic::validate_pattern(t)) return error(c, f.req, "invalid_topic", t);
    for (const auto& t : f.topics)
      if (!permitted(t)) return error(c, f.req, "forbidden_topic", t);
    std::set<std::string> after = c.patterns;
    after.insert(f.topics.begin(), f.topics.end());
    if (after.size() > cfg.max_patterns) return error(c, f.req, "too_many_subscriptions");
    std::optional<std::string> from = f.from;
    if (from && !c.patterns.empty()) return error(c, f.req, "resume_not_allowed");
    if (!from && c.patterns.empty() && !c.last_event_id_header.empty()) from = c.last_event_id_header;
    std::optional<core::event_id> position;
    if (from) {
      position = core::event_id::parse(*from);
      if (!position) return error(c, f.req, "invalid_event_id");
    }
    c.patterns = std::move(after);
    send(c, core::subscribed_frame{f.req, f.topics, head()});
    if (position) {
      replay(c, f.req, *from, *position, f.snapshot ? &f.topics : nullptr);
    } else if (f.snapshot) {
      send(c, core::snapshotted_frame{f.req, send_snapshot(c, f.topics)});
    }
  }

  // Section 5.3: the latest retained event of every topic a pattern matches, in id order.
  std::uint64_t send_snapshot(connection& c, const std::vector<std::string>& patterns) {
    const std::set<std::string> wanted(patterns.begin(), patterns.end());
    std::map<std::string, const stored_event*> latest;
    for (const auto& e : log_)
      if (e.seq >= oldest_retained_ && matches_any(wanted, e.ev.topic)) latest[e.ev.topic] = &e;
    std::vector<const stored_event*> in_order;
    for (const auto& [topic, e] : latest) in_order.push_back(e);
    std::sort(in_order.begin(), in_order.end(), [](auto* a, auto* b) { return a->seq < b->seq; });
    for (const auto* e : in_order) {
      core::event ev = e->ev;
      ev.snapshot = true;
      outbox.push_back({to_client::kind::frame, c.id, core::codec::encode_event(ev), 0, {}});
    }
    return in_order.size();
  }

  // With `snapshot_patterns`, a reset brings the snapshot of those patterns instead of the replay.
  void replay(connection& c, const std::string& req, const std::string& from, const core::event_id& pos,
              const std::vector<std::string>* snapshot_patterns = nullptr) {
    std::uint64_t after_seq = pos.seq;
    auto oldest = std::max(oldest_retained_, log_.empty() ? next_seq_ : log_.front().seq);
    auto before_oldest = [&]() -> std::optional<std::string> {
      if (oldest <= 1 && cfg.null_heads) return std::nullopt;
      return cfg.epoch + "-" + std::to_string(oldest - 1);
    };
    const char* reset = pos.epoch != cfg.epoch ? "epoch_changed"
                        : pos.seq >= next_seq_ ? "future_id"
                        : pos.seq + 1 < oldest ? "retention_exceeded"
                                               : nullptr;
    if (reset && snapshot_patterns) {  // section 5.3: the snapshot instead of the replay
      send(c, core::reset_frame{reset, from, head()});
      send(c, core::snapshotted_frame{req, send_snapshot(c, *snapshot_patterns)});
      send(c, core::replayed_frame{req, 0});
      return;
    }
    if (pos.epoch != cfg.epoch) {
      send(c, core::reset_frame{"epoch_changed", from, before_oldest()});
      after_seq = 0;
    } else if (pos.seq >= next_seq_) {
      send(c, core::reset_frame{"future_id", from, head()});
      after_seq = next_seq_;
    } else if (pos.seq + 1 < oldest) {
      send(c, core::reset_frame{"retention_exceeded", from, before_oldest()});
      after_seq = 0;
    } else {
      after_seq = pos.seq > cfg.replay_overlap ? pos.seq - cfg.replay_overlap : 0;
    }
    std::uint64_t count = 0;
    for (const auto& e : log_) {
      if (e.seq <= after_seq || e.seq < oldest || !matches_any(c.patterns, e.ev.topic)) continue;
      send_event(c, e);
      ++count;
    }
    send(c, core::replayed_frame{req, count});
  }

  void on_frame(std::int64_t, connection& c, const core::unsubscribe_frame& f) {
    for (const auto& t : f.topics)
      if (c.patterns.count(t) == 0) return error(c, f.req, "not_subscribed", t);
    for (const auto& t : f.topics) c.patterns.erase(t);
    send(c, core::unsubscribed_frame{f.req, f.topics, "requested"});
  }

  void on_frame(std::int64_t now_ms, connection& c, const core::refresh_frame& f) {
    if (!token_valid(now_ms, f.token)) return error(c, f.req, "invalid_token");
    taken_tokens_.insert(f.token);
    c.exp_ms = *core::codec::jwt_expiry(f.token) * 1000;
    c.expiring_sent = false;
    send(c, core::refreshed_frame{f.req, c.exp_ms / 1000});
  }

  void on_frame(std::int64_t, connection& c, const core::ping_frame& f) {
    if (cfg.answer_pings) send(c, core::pong_frame{f.req, server_time()});
  }

  std::map<std::uint64_t, connection> connections_;
  std::vector<stored_event> log_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t oldest_retained_ = 1;
  bool stalled_ = false;
  std::set<std::string> taken_tokens_;
  std::int64_t now_ms_ = 0;  // the time of the input being answered
};

// ---- the harness: adapter + virtual clock ----------------------------------------------------

class harness {
 public:
  enum class token_answer { fresh, expired, failure };

  struct logged {
    std::int64_t at_ms;
    core::action what;
  };

  static core::session_config default_config() {
    core::session_config c;
    c.endpoint = "wss://events.example/v1/events";
    return c;
  }

  explicit harness(core::session_config config = default_config(), virtual_server::settings s = {})
      : session(std::move(config)), server(std::move(s)) {}

  core::client_session session;
  virtual_server server;
  std::int64_t now_ms = virtual_epoch_ms;
  std::int64_t token_lifetime_s = 900;
  std::deque<token_answer> token_script;  // answers in order; when empty: see below
  std::int64_t provider_down_until_ms = 0; // without a script: failure before this time, then fresh
  std::deque<double> randoms;             // one per input; when empty: default_random
  double default_random = 0.5;
  std::size_t step_bound = 20'000;
  // Event frames go to event_received (id and topic, as the npm SDK feeds them after its own
  // JSON.parse) instead of frame. Default: the environment variable
  // GLOBEMEET_TEST_EVENTS_AS_INPUT=1, so that every scenario runs both ways (tests/CMakeLists.txt).
  bool events_as_input = events_as_input_by_default();
  std::vector<logged> log;                // every action, stamped with the time it came out
  std::map<core::timer_kind, std::int64_t> timers;
  int tokens_issued = 0;
  std::vector<core::token_reason> token_reasons;  // why each request_token was made, in order

  core::tick tick() {
    double r = default_random;
    if (!randoms.empty()) {
      r = randoms.front();
      randoms.pop_front();
    }
    return {now_ms, r};
  }

  void start() {
    session.start(tick());
    run_for(0);
  }
  std::uint64_t subscribe(std::string_view pattern, core::subscribe_options options = {}) {
    auto h = session.subscribe(tick(), pattern, options);
    INFO(pattern);
    REQUIRE(h.ok());
    run_for(0);
    return h.value();
  }
  void unsubscribe(std::uint64_t handle) {
    session.unsubscribe(tick(), handle);
    run_for(0);
  }

  // Runs until nothing is pending and the next deadline lies beyond `until_ms`, then sets the
  // clock to `until_ms`.
  void run_until(std::int64_t until_ms) {
    for (std::size_t steps = 0;; ++steps) {
      if (steps > step_bound) FAIL("livelock: more than " << step_bound << " steps before t=" << until_ms);
      perform_actions();
      if (deliver_one_input()) continue;
      auto next = next_deadline();
      if (!next || *next > until_ms) break;
      now_ms = std::max(now_ms, *next);
      fire_due();
    }
    now_ms = std::max(now_ms, until_ms);
  }
  void run_for(std::int64_t ms) { run_until(now_ms + ms); }

  // ---- inspection --------------------------------------------------------------------------
  std::size_t mark() const { return log.size(); }
  std::vector<core::action> since(std::size_t m) const {
    std::vector<core::action> out;
    for (auto i = m; i < log.size(); ++i) out.push_back(log[i].what);
    return out;
  }
  template <class A>
  std::vector<std::pair<std::int64_t, A>> all(std::size_t from = 0) const {
    std::vector<std::pair<std::int64_t, A>> out;
    for (auto i = from; i < log.size(); ++i)
      if (auto* a = std::get_if<A>(&log[i].what)) out.emplace_back(log[i].at_ms, *a);
    return out;
  }
  std::vector<std::string> delivered_ids(std::size_t from = 0) const {
    std::vector<std::string> out;
    for (const auto& [at, d] : all<core::deliver_action>(from)) out.push_back(d.ev.id);
    return out;
  }
  // Notices other than `subscribed`, which every (re)connection emits per handle as routine.
  std::vector<core::notice_action> notices(std::size_t from = 0) const {
    std::vector<core::notice_action> out;
    for (const auto& [at, n] : all<core::notice_action>(from))
      if (n.kind != core::notice_kind::subscribed) out.push_back(n);
    return out;
  }
  // The handles told `subscribed`, in order.
  std::vector<std::uint64_t> subscribed_handles(std::size_t from = 0) const {
    std::vector<std::uint64_t> out;
    for (const auto& [at, n] : all<core::notice_action>(from))
      if (n.kind == core::notice_kind::subscribed) out.push_back(n.handle);
    return out;
  }
  // The client frames of one kind the server received, in order.
  template <class F>
  std::vector<F> received(std::size_t from = 0) const {
    std::vector<F> out;
    for (auto i = from; i < server.received.size(); ++i)
      if (auto* f = std::get_if<F>(&server.received[i].second)) out.push_back(*f);
    return out;
  }

 private:
  struct token_input {
    token_answer answer;
    std::string token;
  };
  using input = std::variant<virtual_server::to_client, token_input>;
  std::deque<input> inputs_;

  void perform_actions() {
    for (auto& a : session.take_actions()) {
      log.push_back({now_ms, a});
      perform(a);
    }
    while (!server.outbox.empty()) {
      inputs_.emplace_back(std::move(server.outbox.front()));
      server.outbox.pop_front();
    }
  }

  void perform(const core::action& a) {
    if (auto* o = std::get_if<core::open_action>(&a)) server.on_open(now_ms, *o);
    else if (auto* s = std::get_if<core::send_action>(&a)) server.on_send(now_ms, *s);
    else if (auto* c = std::get_if<core::close_action>(&a)) server.on_close(*c);
    else if (auto* arm = std::get_if<core::arm_timer_action>(&a)) timers[arm->timer] = arm->at_ms;
    else if (auto* cancel = std::get_if<core::cancel_timer_action>(&a)) timers.erase(cancel->timer);
    else if (auto* r = std::get_if<core::request_token_action>(&a)) {
      token_reasons.push_back(r->reason);
      answer_token_request();
    }
  }

  void answer_token_request() {
    auto answer = now_ms < provider_down_until_ms ? token_answer::failure : token_answer::fresh;
    if (!token_script.empty()) {
      answer = token_script.front();
      token_script.pop_front();
    }
    auto now_s = now_ms / 1000;
    std::string token;
    if (answer == token_answer::fresh) token = make_token(now_s + token_lifetime_s, ++tokens_issued);
    if (answer == token_answer::expired) token = make_token(now_s - 5, ++tokens_issued);
    inputs_.emplace_back(token_input{answer, std::move(token)});
  }

  bool deliver_one_input() {
    if (inputs_.empty()) return false;
    auto in = std::move(inputs_.front());
    inputs_.pop_front();
    if (auto* t = std::get_if<token_input>(&in)) {
      if (t->answer == token_answer::failure) session.token_failed(tick(), "provider unavailable");
      else session.token_obtained(tick(), std::move(t->token));
      return true;
    }
    auto& n = std::get<virtual_server::to_client>(in);
    switch (n.what) {
      case virtual_server::to_client::kind::opened: session.opened(tick(), n.connection); break;
      case virtual_server::to_client::kind::frame: feed_frame(n.connection, n.text); break;
      case virtual_server::to_client::kind::closed: session.closed(tick(), n.connection, n.code, n.reason); break;
    }
    return true;
  }

  static bool events_as_input_by_default() {
    const char* v = std::getenv("GLOBEMEET_TEST_EVENTS_AS_INPUT");
    return v != nullptr && std::string_view(v) == "1";
  }

  void feed_frame(std::uint64_t connection, const std::string& text) {
    if (events_as_input) {
      auto decoded = core::codec::decode_server(text);
      if (decoded) {
        if (auto* e = std::get_if<core::event_frame>(&decoded.value())) {
          session.event_received(tick(), connection, e->ev.id, e->ev.topic, e->ev.time, e->ev.snapshot);
          return;
        }
      }
    }
    session.frame(tick(), connection, text);
  }

  std::optional<std::int64_t> next_deadline() const {
    auto next = server.next_deadline();
    for (const auto& [kind, at] : timers)
      if (!next || at < *next) next = at;
    return next;
  }

  // The earliest deadline; on a tie the session's timer first (a client refreshing exactly 60 s
  // before `exp` beats the server's `expiring`). Anything else due is handled on a later step.
  void fire_due() {
    auto earliest = std::min_element(timers.begin(), timers.end(),
                                     [](const auto& a, const auto& b) { return a.second < b.second; });
    auto server_at = server.next_deadline();
    if (earliest != timers.end() && earliest->second <= now_ms && (!server_at || earliest->second <= *server_at)) {
      auto kind = earliest->first;
      timers.erase(earliest);
      session.timer_fired(tick(), kind);
      return;
    }
    server.advance(now_ms);
  }
};

// One line per action, for failure messages.
inline std::string describe(const core::action& a) {
  using std::to_string;
  struct visitor {
    std::string operator()(const core::open_action& o) const {
      return "open{" + to_string(o.connection) + ", " + o.url + ", " + o.subprotocol + ", auth=" +
             (o.authorization.empty() ? "none" : o.authorization.substr(0, 16) + "...") + ", last=" + o.last_event_id + "}";
    }
    std::string operator()(const core::send_action& s) const { return "send{" + to_string(s.connection) + ", " + s.text + "}"; }
    std::string operator()(const core::close_action& c) const {
      return "close{" + to_string(c.connection) + ", " + to_string(c.code) + ", " + c.reason + "}";
    }
    std::string operator()(const core::arm_timer_action& t) const {
      return std::string("arm{") + core::to_string(t.timer) + ", " + to_string(t.at_ms - virtual_epoch_ms) + "}";
    }
    std::string operator()(const core::cancel_timer_action& t) const { return std::string("cancel{") + core::to_string(t.timer) + "}"; }
    std::string operator()(const core::request_token_action& a) const {
      return std::string("request_token ") + core::to_string(a.reason);
    }
    std::string operator()(const core::deliver_action& d) const {
      std::string hs;
      for (auto h : d.handles) hs += " " + to_string(h);
      return "deliver{" + d.ev.id + ", " + d.ev.topic + ", handles" + hs + (d.snapshot ? ", snapshot" : "") +
             ", delay " + (d.delay_ms ? to_string(*d.delay_ms) : std::string("none")) + "}";
    }
    std::string operator()(const core::state_changed_action& s) const {
      return std::string("state{") + core::to_string(s.from) + " -> " + core::to_string(s.to) + ", " + to_string(s.code) +
             ", " + s.reason + "}";
    }
    std::string operator()(const core::notice_action& n) const {
      return std::string("notice{") + core::to_string(n.kind) + ", " + n.detail + ", " + n.message + ", handle " +
             to_string(n.handle) + "}";
    }
  };
  return std::visit(visitor{}, a);
}

}  // namespace globemeet::test

namespace Catch {
template <>
struct StringMaker<globemeet::core::action> {
  static std::string convert(const globemeet::core::action& a) { return globemeet::test::describe(a); }
};
}  // namespace Catch
