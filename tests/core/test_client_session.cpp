// The client connection state machine, driven by hand (exact action sequences) and against the
// virtual server on a virtual clock (whole scenarios: resume, tokens, backoff, failures).
#include <catch2/catch.hpp>

#include <random>

#include "globemeet/core/client_session.hpp"
#include "globemeet/core/codec.hpp"
#include "virtual_server.hpp"

using namespace globemeet::core;
using globemeet::test::harness;
using globemeet::test::make_token;
using globemeet::test::virtual_epoch_ms;
using globemeet::test::virtual_server;
using actions = std::vector<action>;

namespace {

constexpr std::int64_t t0 = virtual_epoch_ms;
const std::string url = "wss://events.example/v1/events";

session_config config() { return harness::default_config(); }

send_action send_of(std::uint64_t connection, const client_frame& f) { return {connection, codec::encode(f)}; }
std::string frame_text(const server_frame& f) { return codec::encode(f); }

event make_event(std::string id, std::string topic) {
  event ev;
  ev.id = std::move(id);
  ev.source = "/tenants/acme/queues/support";
  ev.type = "queue.depth-changed";
  ev.subject = "support";
  ev.time = "2026-11-27T18:02:11.204Z";
  ev.topic = std::move(topic);
  ev.tenant = "acme";
  ev.data_json = R"({"queue_id":"support","depth":7,"longest_wait_seconds":42})";
  return ev;
}

// A session driven by hand up to `live` on connection 1, with one subscription (handle 1).
struct live_session {
  client_session s{config()};
  std::int64_t exp_s = t0 / 1000 + 900;
  std::string token = make_token(exp_s, 1);
  live_session() {
    tick t{t0, 0.5};
    REQUIRE(s.subscribe(t, "queue.support.*").value() == 1);
    s.start(t);
    s.token_obtained(t, token);
    s.opened(t, 1);
    s.frame(t, 1, frame_text(ready_frame{"console", "acme", exp_s, 20'000, std::nullopt}));
    s.take_actions();
    REQUIRE(s.state() == session_state::live);
  }
};

}  // namespace

// ---- exact action sequences, driven by hand ---------------------------------------------------

TEST_CASE("happy path: token, open, ready, one subscribe, events to the matching handles", "[client_session]") {
  client_session s(config());
  tick t{t0, 0.5};
  auto h1 = s.subscribe(t, "queue.support.*");
  auto h2 = s.subscribe(t, "queue.*.depth-changed");
  auto h3 = s.subscribe(t, "agent.>");
  REQUIRE(h1.ok());
  REQUIRE(h2.ok());
  REQUIRE(h3.ok());
  CHECK(h1.value() == 1);
  CHECK(h2.value() == 2);
  CHECK(h3.value() == 3);
  CHECK(s.take_actions().empty());  // nothing to do before start

  s.start(t);
  CHECK(s.take_actions() == actions{state_changed_action{session_state::idle, session_state::fetching_token, 0, "a token is needed"},
                                    request_token_action{}});

  auto exp_s = t0 / 1000 + 900;
  auto token = make_token(exp_s, 1);
  s.token_obtained(t, token);
  CHECK(s.take_actions() == actions{state_changed_action{session_state::fetching_token, session_state::connecting, 0, ""},
                                    open_action{1, url, "globemeet-events.v1", "Bearer " + token, ""},
                                    arm_timer_action{timer_kind::handshake, t0 + 10'000}});

  s.opened(t, 1);
  CHECK(s.take_actions() == actions{state_changed_action{session_state::connecting, session_state::authenticating, 0, ""}});
  CHECK(s.state() == session_state::authenticating);

  tick t1{t0 + 120, 0.5};
  s.frame(t1, 1, frame_text(ready_frame{"console", "acme", exp_s, 20'000, std::string("a1-4")}));
  CHECK(s.take_actions() ==
        actions{cancel_timer_action{timer_kind::handshake},
                state_changed_action{session_state::authenticating, session_state::live, 0, ""},
                send_of(1, subscribe_frame{"1", {"agent.>", "queue.*.depth-changed", "queue.support.*"}, std::nullopt}),
                arm_timer_action{timer_kind::heartbeat, t1.now_ms + 20'000},
                arm_timer_action{timer_kind::refresh, exp_s * 1000 - 60'000},
                arm_timer_action{timer_kind::stable, t1.now_ms + 10'000}});

  // Each handle learns that its pattern is in force, in the order the server listed them.
  s.frame(t1, 1, frame_text(subscribed_frame{"1", {"agent.>", "queue.*.depth-changed", "queue.support.*"}, std::string("a1-4")}));
  CHECK(s.take_actions() ==
        actions{notice_action{notice_kind::subscribed, "agent.>", "subscribed to `agent.>`", 3},
                notice_action{notice_kind::subscribed, "queue.*.depth-changed", "subscribed to `queue.*.depth-changed`", 2},
                notice_action{notice_kind::subscribed, "queue.support.*", "subscribed to `queue.support.*`", 1}});

  auto ev = make_event("a1-5", "queue.support.depth-changed");
  auto text = codec::encode_event(ev);
  s.frame(t1, 1, text);
  // The delay is the local clock minus `time` (this `ready` names no server clock: offset 0).
  CHECK(s.take_actions() == actions{deliver_action{text, ev, {1, 2}, false, t1.now_ms - 1'795'802'531'204}});
  CHECK(s.last_event_id() == std::optional<std::string>("a1-5"));

  auto other = make_event("a1-9", "queue.sales.abandoned");
  s.frame(t1, 1, codec::encode_event(other));
  CHECK(s.take_actions().empty());  // nobody holds a matching pattern; the position still moves
  CHECK(s.last_event_id() == std::optional<std::string>("a1-9"));
}

TEST_CASE("a browser session sends the token in an `auth` frame, never in a header", "[client_session]") {
  auto cfg = config();
  cfg.token_in_header = false;
  client_session s(cfg);
  tick t{t0, 0.5};
  REQUIRE(s.set_last_event_id("a1-3"));
  s.start(t);
  s.take_actions();
  auto token = make_token(t0 / 1000 + 900, 1);
  s.token_obtained(t, token);
  CHECK(s.take_actions() == actions{state_changed_action{session_state::fetching_token, session_state::connecting, 0, ""},
                                    open_action{1, url, "globemeet-events.v1", "", "a1-3"},
                                    arm_timer_action{timer_kind::handshake, t0 + 10'000}});
  s.opened(t, 1);
  CHECK(s.take_actions() == actions{send_of(1, auth_frame{token}),
                                    state_changed_action{session_state::connecting, session_state::authenticating, 0, ""}});
}

TEST_CASE("subscribe validates locally and sends `from` only while the connection holds nothing", "[client_session]") {
  client_session s(config());
  tick t{t0, 0.5};
  REQUIRE(s.set_last_event_id("a1-7"));
  auto bad = s.subscribe(t, "queue..depth");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().code == "invalid_topic");
  s.start(t);
  auto exp_s = t0 / 1000 + 900;
  s.token_obtained(t, make_token(exp_s, 1));
  s.opened(t, 1);
  s.frame(t, 1, frame_text(ready_frame{"console", "acme", exp_s, 20'000, std::nullopt}));
  s.take_actions();  // no patterns yet: no subscribe

  auto h1 = s.subscribe(t, "queue.>");
  CHECK(h1.value() == 1);  // the refused pattern took no handle
  CHECK(s.take_actions() == actions{send_of(1, subscribe_frame{"1", {"queue.>"}, std::string("a1-7")})});
  auto h2 = s.subscribe(t, "agent.*.busy");
  CHECK(s.take_actions() == actions{send_of(1, subscribe_frame{"2", {"agent.*.busy"}, std::nullopt})});
  auto h3 = s.subscribe(t, "queue.>");  // a second handle on a pattern the connection holds
  CHECK(h3.value() == 3);
  CHECK(s.take_actions().empty());

  s.unsubscribe(t, h1.value());
  CHECK(s.take_actions().empty());  // handle 3 still holds `queue.>`
  s.unsubscribe(t, h3.value());
  CHECK(s.take_actions() == actions{send_of(1, unsubscribe_frame{"3", {"queue.>"}})});
  s.unsubscribe(t, h3.value());  // unknown by now: nothing
  s.unsubscribe(t, 999);
  CHECK(s.take_actions().empty());
  (void)h2;
}

TEST_CASE("stale connection inputs are ignored", "[client_session]") {
  client_session s(config());
  tick t{t0, 0.5};
  s.start(t);
  auto exp_s = t0 / 1000 + 900;
  s.token_obtained(t, make_token(exp_s, 1));
  s.opened(t, 1);
  s.take_actions();

  // The handshake times out: the session closes connection 1 and gives up on it.
  tick late{t0 + 10'000, 0.5};
  s.timer_fired(late, timer_kind::handshake);
  CHECK(s.take_actions() ==
        actions{close_action{1, close_handshake_timeout, "no ready within the handshake timeout"},
                state_changed_action{session_state::authenticating, session_state::reconnecting, close_handshake_timeout,
                                     "no ready within the handshake timeout"},
                arm_timer_action{timer_kind::reconnect, late.now_ms + 250}});

  auto ready = frame_text(ready_frame{"console", "acme", exp_s, 20'000, std::nullopt});
  s.frame(late, 1, ready);
  s.opened(late, 1);
  s.closed(late, 1, 1006, "abnormal");
  s.timer_fired(late, timer_kind::handshake);  // already consumed
  s.timer_fired(late, timer_kind::pong);       // never armed
  CHECK(s.take_actions().empty());
  CHECK(s.state() == session_state::reconnecting);

  tick again{late.now_ms + 250, 0.5};
  s.timer_fired(again, timer_kind::reconnect);
  auto a = s.take_actions();
  REQUIRE(a.size() == 3);
  CHECK(std::get<open_action>(a[1]).connection == 2);
  s.opened(again, 1);  // the old connection again: still ignored
  s.frame(again, 1, ready);
  CHECK(s.take_actions().empty());
  s.opened(again, 2);
  s.frame(again, 2, ready);
  CHECK(s.state() == session_state::live);
}

TEST_CASE("an undecodable or out-of-place server frame is reported and ignored", "[client_session]") {
  live_session l;
  tick t{t0 + 1'000, 0.5};
  l.s.frame(t, 1, "{not json");
  auto a = l.s.take_actions();
  REQUIRE(a.size() == 1);
  auto n = std::get<notice_action>(a[0]);
  CHECK(n.kind == notice_kind::error);
  CHECK(n.detail == "bad_frame");
  CHECK_FALSE(n.message.empty());

  l.s.frame(t, 1, R"({"op":"no-such-op"})");
  l.s.frame(t, 1, frame_text(ready_frame{"console", "acme", l.exp_s, 20'000, std::nullopt}));  // a second ready
  a = l.s.take_actions();
  REQUIRE(a.size() == 2);
  CHECK(std::get<notice_action>(a[0]).detail == "bad_frame");
  CHECK(std::get<notice_action>(a[1]).detail == "bad_frame");
  CHECK(l.s.state() == session_state::live);
}

TEST_CASE("an `error` frame not tied to a pending request becomes an error notice", "[client_session]") {
  live_session l;
  tick t{t0 + 1'000, 0.5};
  l.s.frame(t, 1, frame_text(error_frame{"", "rate_limited", "slow down", ""}));
  CHECK(l.s.take_actions() == actions{notice_action{notice_kind::error, "rate_limited", "slow down", 0}});
}

TEST_CASE("stop closes normally, cancels every timer and stays closed", "[client_session]") {
  live_session l;
  tick t{t0 + 1'000, 0.5};
  l.s.stop(t);
  CHECK(l.s.take_actions() == actions{close_action{1, close_normal, "client stopped"},
                                      cancel_timer_action{timer_kind::heartbeat},
                                      cancel_timer_action{timer_kind::refresh},
                                      cancel_timer_action{timer_kind::stable},
                                      state_changed_action{session_state::live, session_state::closed, close_normal,
                                                           "stopped by the client"}});
  CHECK(l.s.final_code() == close_normal);
  l.s.closed(t, 1, 1000, "bye");
  l.s.start(t);
  l.s.stop(t);
  l.s.timer_fired(t, timer_kind::heartbeat);
  CHECK(l.s.take_actions().empty());
  CHECK(l.s.state() == session_state::closed);
  CHECK_FALSE(l.s.set_last_event_id("a1-1"));
}

namespace {
std::vector<client_frame> sent_frames(const actions& a) {
  std::vector<client_frame> out;
  for (const auto& x : a)
    if (auto* s = std::get_if<send_action>(&x)) {
      auto f = codec::decode_client(s->text);
      REQUIRE(f.ok());
      out.push_back(f.value());
    }
  return out;
}
}  // namespace

TEST_CASE("more than 64 patterns go in several subscribes; only the first resumes", "[client_session]") {
  client_session s(config());
  tick t{t0, 0.5};
  std::vector<std::string> patterns;
  for (int i = 0; i < 70; ++i) patterns.push_back("queue.q" + std::to_string(100 + i) + ".*");
  for (const auto& p : patterns) REQUIRE(s.subscribe(t, p).ok());
  REQUIRE(s.set_last_event_id("a1-5"));
  s.start(t);
  auto exp_s = t0 / 1000 + 900;
  s.token_obtained(t, make_token(exp_s, 1));
  s.opened(t, 1);
  s.take_actions();
  s.frame(t, 1, frame_text(ready_frame{"console", "acme", exp_s, 20'000, std::nullopt}));
  auto frames = sent_frames(s.take_actions());
  REQUIRE(frames.size() == 2);
  CHECK(frames[0] == client_frame{subscribe_frame{"1", {patterns.begin(), patterns.begin() + 64}, std::string("a1-5")}});
  CHECK(frames[1] == client_frame{subscribe_frame{"2", {patterns.begin() + 64, patterns.end()}, std::nullopt}});
}

TEST_CASE("resume_not_allowed: the patterns are asked for again without `from`", "[client_session]") {
  client_session s(config());
  tick t{t0, 0.5};
  REQUIRE(s.set_last_event_id("a1-5"));
  REQUIRE(s.subscribe(t, "queue.>").ok());
  s.start(t);
  auto exp_s = t0 / 1000 + 900;
  s.token_obtained(t, make_token(exp_s, 1));
  s.opened(t, 1);
  s.frame(t, 1, frame_text(ready_frame{"console", "acme", exp_s, 20'000, std::nullopt}));
  s.take_actions();
  s.frame(t, 1, frame_text(error_frame{"1", "resume_not_allowed", "the connection holds subscriptions", ""}));
  CHECK(s.take_actions() == actions{send_of(1, subscribe_frame{"2", {"queue.>"}, std::nullopt})});
}

TEST_CASE("refresh on a live connection: only a newer token is sent; failures retry with backoff", "[client_session]") {
  live_session l;
  tick t{l.exp_s * 1000 - 60'000, 0.5};
  l.s.timer_fired(t, timer_kind::refresh);
  CHECK(l.s.take_actions() == actions{request_token_action{token_reason::refresh}});

  SECTION("a newer token is sent as `refresh`; `refreshed` re-arms the timer from the new exp") {
    auto newer = make_token(l.exp_s + 840, 2);
    l.s.token_obtained(t, newer);
    CHECK(l.s.take_actions() == actions{send_of(1, refresh_frame{"2", newer})});
    l.s.frame(t, 1, frame_text(refreshed_frame{"2", l.exp_s + 840}));
    CHECK(l.s.take_actions() == actions{arm_timer_action{timer_kind::refresh, (l.exp_s + 840) * 1000 - 60'000}});
  }
  SECTION("the same token again is not sent; the request is retried later") {
    l.s.token_obtained(t, l.token);
    CHECK(l.s.take_actions() == actions{arm_timer_action{timer_kind::refresh, t.now_ms + 250}});
  }
  SECTION("an expired token is not sent") {
    l.s.token_obtained(t, make_token(t.now_ms / 1000 - 1, 2));
    CHECK(l.s.take_actions() == actions{arm_timer_action{timer_kind::refresh, t.now_ms + 250}});
  }
  SECTION("a provider failure keeps the connection and retries with growing delays") {
    l.s.token_failed(t, "down");
    CHECK(l.s.take_actions() == actions{notice_action{notice_kind::error, "token_unavailable", "down", 0},
                                        arm_timer_action{timer_kind::refresh, t.now_ms + 250}});
    tick t2{t.now_ms + 250, 0.5};
    l.s.timer_fired(t2, timer_kind::refresh);
    l.s.token_failed(t2, "down");
    CHECK(l.s.take_actions() == actions{request_token_action{token_reason::refresh},
                                        notice_action{notice_kind::error, "token_unavailable", "down", 0},
                                        arm_timer_action{timer_kind::refresh, t2.now_ms + 500}});
    CHECK(l.s.state() == session_state::live);
  }
  SECTION("a refused refresh drops the token: the next connection fetches a fresh one") {
    auto newer = make_token(l.exp_s + 840, 2);
    l.s.token_obtained(t, newer);
    l.s.take_actions();
    l.s.frame(t, 1, frame_text(error_frame{"2", "invalid_token", "other sub", ""}));
    CHECK(l.s.take_actions() == actions{notice_action{notice_kind::error, "invalid_token", "other sub", 0},
                                        arm_timer_action{timer_kind::refresh, t.now_ms + 250}});
    l.s.closed(t, 1, 1006, "network");
    l.s.take_actions();
    tick t2{t.now_ms + 250, 0.5};
    l.s.timer_fired(t2, timer_kind::reconnect);
    CHECK(l.s.take_actions() ==
          actions{state_changed_action{session_state::reconnecting, session_state::fetching_token, 0, "a token is needed"},
                  request_token_action{}});
  }
  SECTION("`expiring` while a request is outstanding asks only once") {
    l.s.frame(t, 1, frame_text(expiring_frame{l.exp_s, 30'000}));
    auto a = l.s.take_actions();
    REQUIRE(a.size() == 1);
    CHECK(std::get<notice_action>(a[0]).kind == notice_kind::token_expiring);
  }
}

TEST_CASE("a refused ping proves the connection alive: no reconnect", "[client_session]") {
  live_session l;
  tick t{t0 + 20'000, 0.5};
  l.s.timer_fired(t, timer_kind::heartbeat);
  CHECK(l.s.take_actions() == actions{send_of(1, ping_frame{"2"}), arm_timer_action{timer_kind::pong, t.now_ms + 20'000}});
  l.s.frame(t, 1, frame_text(error_frame{"2", "rate_limited", "slow down", ""}));
  CHECK(l.s.take_actions() == actions{cancel_timer_action{timer_kind::pong},
                                      arm_timer_action{timer_kind::heartbeat, t.now_ms + 20'000}});
  l.s.frame(t, 1, frame_text(pong_frame{"2"}));  // a late pong for it changes nothing
  CHECK(l.s.take_actions().empty());
}

TEST_CASE("rate_limited: a subscribe's patterns and an unsubscribe go out again a second later, silently",
          "[client_session]") {
  live_session l;  // holds queue.support.* (handle 1); req 1 was its subscribe
  tick t{t0 + 1'000, 0.5};
  auto agent = l.s.subscribe(t, "agent.>").value();
  auto session = l.s.subscribe(t, "session.>").value();
  CHECK(l.s.take_actions() == actions{send_of(1, subscribe_frame{"2", {"agent.>"}, std::nullopt}),
                                      send_of(1, subscribe_frame{"3", {"session.>"}, std::nullopt})});
  l.s.frame(t, 1, frame_text(error_frame{"2", "rate_limited", "more than 100 requests per second", ""}));
  CHECK(l.s.take_actions() == actions{arm_timer_action{timer_kind::resend, t.now_ms + 1'000}});
  l.s.frame(t, 1, frame_text(subscribed_frame{"3", {"session.>"}, std::string("a1-4")}));
  l.s.take_actions();

  // An unsubscribe refused too, while the resend is armed: the same timer takes both.
  l.s.unsubscribe(t, session);
  CHECK(l.s.take_actions() == actions{send_of(1, unsubscribe_frame{"4", {"session.>"}})});
  l.s.frame(t, 1, frame_text(error_frame{"4", "rate_limited", "more than 100 requests per second", ""}));
  CHECK(l.s.take_actions().empty());

  tick later{t.now_ms + 1'000, 0.5};
  l.s.timer_fired(later, timer_kind::resend);
  CHECK(l.s.take_actions() == actions{send_of(1, subscribe_frame{"5", {"agent.>"}, std::nullopt}),
                                      send_of(1, unsubscribe_frame{"6", {"session.>"}})});
  l.s.frame(later, 1, frame_text(subscribed_frame{"5", {"agent.>"}, std::string("a1-4")}));
  CHECK(l.s.take_actions() == actions{notice_action{notice_kind::subscribed, "agent.>", "subscribed to `agent.>`", agent}});
  CHECK(l.s.state() == session_state::live);
}

TEST_CASE("rate_limited refresh keeps the token and retries with backoff", "[client_session]") {
  live_session l;
  tick t{l.exp_s * 1000 - 60'000, 0.5};
  l.s.timer_fired(t, timer_kind::refresh);
  l.s.take_actions();
  auto newer = make_token(l.exp_s + 840, 2);
  l.s.token_obtained(t, newer);
  CHECK(l.s.take_actions() == actions{send_of(1, refresh_frame{"2", newer})});
  l.s.frame(t, 1, frame_text(error_frame{"2", "rate_limited", "more than 100 requests per second", ""}));
  CHECK(l.s.take_actions() == actions{arm_timer_action{timer_kind::refresh, t.now_ms + 250}});
}

TEST_CASE("close codes fall in the classes of section 8", "[client_session]") {
  for (std::uint16_t code : std::initializer_list<std::uint16_t>{1000, 1002, 1003, 1007, 1008, 1009, 4400, 4401, 4403, 4499}) {
    INFO(code);
    CHECK(is_final_close_code(code));
  }
  for (std::uint16_t code : std::initializer_list<std::uint16_t>{1001, 1006, 1011, 1012, 1013, 4000, 4001, 4002, 4003, 4029, 4099, 4500, 1234, 3000}) {
    INFO(code);
    CHECK_FALSE(is_final_close_code(code));
  }
}

// ---- scenarios against the virtual server -----------------------------------------------------

TEST_CASE("happy path against the virtual server", "[client_session]") {
  harness h;
  auto queue = h.subscribe("queue.*.depth-changed");
  auto agent = h.subscribe("agent.>");
  h.start();
  REQUIRE(h.session.state() == session_state::live);
  REQUIRE(h.received<subscribe_frame>().size() == 1);  // one subscribe with every pattern
  CHECK(h.received<subscribe_frame>()[0] == subscribe_frame{"1", {"agent.>", "queue.*.depth-changed"}, std::nullopt});
  CHECK(h.subscribed_handles() == std::vector<std::uint64_t>{agent, queue});

  auto m = h.mark();
  h.server.publish("queue.support.depth-changed");
  h.server.publish("agent.a-17.status-changed",
                   R"({"agent_id":"a-17","status":"busy","previous_status":"ready"})");
  h.server.publish("recording.support.started", R"({"recording_id":"r1","session_id":"s1"})");  // not subscribed
  h.run_for(0);
  auto d = h.all<deliver_action>(m);
  REQUIRE(d.size() == 2);
  CHECK(d[0].second.ev.id == "a1-1");
  CHECK(d[0].second.handles == std::vector<std::uint64_t>{queue});
  CHECK(d[1].second.ev.id == "a1-2");
  CHECK(d[1].second.handles == std::vector<std::uint64_t>{agent});

  // An hour with pings answered: still live on the first connection, pings every 20 s.
  h.run_for(3'600'000);
  CHECK(h.session.state() == session_state::live);
  CHECK(h.server.opens.size() == 1);
  CHECK(h.received<ping_frame>().size() >= 170);
  CHECK(h.notices().empty());
}

TEST_CASE("server restart with resume: no loss, no duplicate", "[client_session]") {
  harness h;
  h.subscribe("queue.>");
  h.start();
  for (int i = 0; i < 3; ++i) h.server.publish("queue.support.depth-changed");
  h.run_for(1'000);
  CHECK(h.delivered_ids() == std::vector<std::string>{"a1-1", "a1-2", "a1-3"});

  SECTION("a plain restart") {
    h.server.restart(std::nullopt, 1012);
  }
  SECTION("a server that replays two events too many") {
    h.server.cfg.replay_overlap = 2;
    h.server.restart(std::nullopt, 1012);
  }
  h.server.publish("queue.sales.depth-changed");  // while the client is away
  h.server.publish("queue.support.depth-changed");
  h.run_for(5'000);
  REQUIRE(h.session.state() == session_state::live);
  h.server.publish("queue.support.depth-changed");
  h.run_for(1'000);

  CHECK(h.delivered_ids() == std::vector<std::string>{"a1-1", "a1-2", "a1-3", "a1-4", "a1-5", "a1-6"});
  REQUIRE(h.server.opens.size() == 2);
  CHECK(h.server.opens[1].last_event_id == "a1-3");
  auto subs = h.received<subscribe_frame>();
  REQUIRE(subs.size() == 2);
  CHECK(subs[1].from == std::optional<std::string>("a1-3"));
  auto n = h.notices();
  REQUIRE(n.size() == 1);
  CHECK(n[0].kind == notice_kind::reconnected);
}

TEST_CASE("overflow: notice, reconnect, resume from the last processed id", "[client_session]") {
  harness h;
  h.subscribe("queue.>");
  h.start();
  h.server.publish("queue.support.depth-changed");
  h.server.publish("queue.support.depth-changed");
  h.run_for(0);
  h.server.stall(true);
  for (int i = 0; i < 3; ++i) h.server.publish("queue.support.depth-changed");
  h.server.overflow_all(5'200);
  h.server.stall(false);
  auto m = h.mark();
  h.run_for(3'000);

  CHECK(h.delivered_ids() == std::vector<std::string>{"a1-1", "a1-2", "a1-3", "a1-4", "a1-5"});
  auto n = h.notices(m);
  REQUIRE(n.size() == 2);
  CHECK(n[0].kind == notice_kind::overflow);
  CHECK(n[0].detail == "a1-2");
  CHECK(n[1].kind == notice_kind::reconnected);
  auto states = h.all<state_changed_action>(m);
  REQUIRE_FALSE(states.empty());
  CHECK(states[0].second == state_changed_action{session_state::live, session_state::reconnecting, 4000, "overflow"});
  CHECK(h.server.opens.back().last_event_id == "a1-2");
}

TEST_CASE("token refresh before expiry: `refresh` before exp, the new exp honoured", "[client_session]") {
  harness h;
  h.server.cfg.expiring_before_ms = 30'000;  // the client's own 60 s margin acts first
  h.subscribe("queue.>");
  h.start();
  auto first_exp_ms = (t0 / 1000 + 900) * 1000;

  h.run_for(2'000'000);  // more than two token lifetimes
  CHECK(h.session.state() == session_state::live);
  CHECK(h.server.opens.size() == 1);  // never dropped
  auto refreshes = h.received<refresh_frame>();
  REQUIRE(refreshes.size() == 2);
  auto sends = h.all<send_action>();
  std::vector<std::int64_t> refresh_times;
  for (const auto& [at, s] : sends)
    if (s.text.find(R"("refresh")") != std::string::npos) refresh_times.push_back(at);
  REQUIRE(refresh_times.size() == 2);
  CHECK(refresh_times[0] == first_exp_ms - 60'000);
  // The second token was issued at the first refresh and lives 900 s from then.
  auto second_exp_ms = (refresh_times[0] / 1000 + 900) * 1000;
  CHECK(refresh_times[1] == second_exp_ms - 60'000);
  auto arms = h.all<arm_timer_action>();
  CHECK(std::count(arms.begin(), arms.end(),
                   std::pair<std::int64_t, arm_timer_action>{refresh_times[0], {timer_kind::refresh, second_exp_ms - 60'000}}) == 1);
  CHECK(h.notices().empty());
}

TEST_CASE("`expiring` asks for a token at once and the refresh follows", "[client_session]") {
  auto cfg = harness::default_config();
  cfg.refresh_before_ms = 10'000;  // later than the server's 60 s warning
  harness h(cfg);
  h.subscribe("queue.>");
  h.start();
  auto exp_ms = (t0 / 1000 + 900) * 1000;
  h.run_until(exp_ms - 60'000);
  auto n = h.notices();
  REQUIRE(n.size() == 1);
  CHECK(n[0].kind == notice_kind::token_expiring);
  CHECK(h.token_reasons == std::vector<token_reason>{token_reason::connect, token_reason::expiring});
  auto refreshes = h.received<refresh_frame>();
  REQUIRE(refreshes.size() == 1);
  h.run_for(200'000);
  CHECK(h.session.state() == session_state::live);
  CHECK(h.server.opens.size() == 1);
}

TEST_CASE("expiry without refresh: the server closes 4001, the session waits for its provider", "[client_session]") {
  harness h;
  h.subscribe("queue.>");
  h.start();
  h.server.publish("queue.support.depth-changed");
  auto exp_ms = (t0 / 1000 + 900) * 1000;
  h.provider_down_until_ms = exp_ms + 120'000;

  h.run_until(exp_ms + 29'000);
  CHECK(h.session.state() == session_state::live);  // the connection keeps its token meanwhile
  auto n = h.notices();
  REQUIRE(n.size() >= 2);
  auto expiring = std::count_if(n.begin(), n.end(), [](const notice_action& x) { return x.kind == notice_kind::token_expiring; });
  auto unavailable = std::count_if(n.begin(), n.end(), [](const notice_action& x) {
    return x.kind == notice_kind::error && x.detail == "token_unavailable";
  });
  CHECK(expiring == 1);
  CHECK(unavailable == static_cast<std::ptrdiff_t>(n.size()) - 1);
  CHECK(h.received<refresh_frame>().empty());

  auto m = h.mark();
  h.run_until(exp_ms + 30'000);
  auto states = h.all<state_changed_action>(m);
  REQUIRE_FALSE(states.empty());
  CHECK(states[0].second == state_changed_action{session_state::live, session_state::reconnecting, 4001, "token_expired"});

  // No connection is attempted while the provider is down; then a fresh token reconnects.
  h.run_until(exp_ms + 119'000);
  CHECK(h.server.opens.size() == 1);
  CHECK(h.session.state() != session_state::closed);
  h.run_until(exp_ms + 160'000);
  CHECK(h.session.state() == session_state::live);
  REQUIRE(h.server.opens.size() == 2);
  CHECK(h.server.opens[1].last_event_id == "a1-1");
  CHECK(h.server.opens[1].authorization != h.server.opens[0].authorization);
}

TEST_CASE("a provider that returns expired tokens twice in a row ends the session with 4001", "[client_session]") {
  harness h;
  h.subscribe("queue.>");

  SECTION("at start") {
    h.token_script = {harness::token_answer::expired, harness::token_answer::expired};
    h.start();
    h.run_for(10'000);
    CHECK(h.session.state() == session_state::closed);
    CHECK(h.session.final_code() == 4001);
    CHECK(h.server.opens.empty());
    auto states = h.all<state_changed_action>();
    REQUIRE(states.size() == 4);
    CHECK(states[1].second.to == session_state::reconnecting);
    CHECK(states[3].second == state_changed_action{session_state::fetching_token, session_state::closed, 4001,
                                                   "token expired and the provider gave no fresh one"});
    auto n = h.notices();
    REQUIRE(n.size() == 1);
    CHECK(n[0].detail == "closed");
    CHECK(n[0].close_code == 4001);
    CHECK(n[0].close_reason == "token expired and the provider gave no fresh one");
  }
  SECTION("after the server closed 4001") {
    h.start();
    h.token_script = {harness::token_answer::expired, harness::token_answer::expired};
    h.server.drop_all(4001, "token_expired");
    h.run_for(10'000);
    CHECK(h.session.state() == session_state::closed);
    CHECK(h.session.final_code() == 4001);
    CHECK(h.server.opens.size() == 1);
  }
  SECTION("a fresh token between two expired ones breaks the row") {
    h.token_script = {harness::token_answer::expired, harness::token_answer::fresh};
    h.start();
    h.run_for(10'000);
    REQUIRE(h.session.state() == session_state::live);
    h.token_script = {harness::token_answer::expired, harness::token_answer::fresh};
    h.server.drop_all(4001, "token_expired");
    h.run_for(10'000);
    CHECK(h.session.state() == session_state::live);
    CHECK(h.server.opens.size() == 2);
  }
}

TEST_CASE("4001 drops the token: the next connection uses a fresh one", "[client_session]") {
  harness h;
  h.start();
  REQUIRE(h.tokens_issued == 1);
  h.server.drop_all(4001, "token_expired");
  h.run_for(5'000);
  CHECK(h.session.state() == session_state::live);
  CHECK(h.tokens_issued == 2);
  REQUIRE(h.server.opens.size() == 2);
  CHECK(h.server.opens[1].authorization != h.server.opens[0].authorization);
  CHECK(h.token_reasons == std::vector<token_reason>{token_reason::connect, token_reason::expired});

  // Any other reconnect-class close keeps the token that still has time left.
  h.server.drop_all(1006, "network");
  h.run_for(5'000);
  CHECK(h.tokens_issued == 2);
  REQUIRE(h.server.opens.size() == 3);
  CHECK(h.server.opens[2].authorization == h.server.opens[1].authorization);
}

TEST_CASE("final close codes end the session without reconnecting", "[client_session]") {
  auto code = GENERATE(as<std::uint16_t>{}, 4401, 4403, 1008, 1000, 4400);
  INFO(code);
  harness h;
  h.subscribe("queue.>");
  h.start();
  auto m = h.mark();
  h.server.drop_all(code, "final");
  h.run_for(3'600'000);
  CHECK(h.session.state() == session_state::closed);
  CHECK(h.session.final_code() == code);
  CHECK(h.server.opens.size() == 1);
  CHECK(h.timers.empty());
  CHECK(h.since(m) == actions{cancel_timer_action{timer_kind::heartbeat}, cancel_timer_action{timer_kind::refresh},
                              cancel_timer_action{timer_kind::stable},
                              notice_action{notice_kind::error, "closed",
                                            "stopped for good after close " + std::to_string(code) + ": final", 0, code,
                                            "final"},
                              state_changed_action{session_state::live, session_state::closed, code, "final"}});
}

TEST_CASE("a refused handshake with a final code ends the session", "[client_session]") {
  virtual_server::settings s;
  s.refuse_with = 4403;
  harness h(harness::default_config(), s);
  h.start();
  h.run_for(60'000);
  CHECK(h.session.state() == session_state::closed);
  CHECK(h.session.final_code() == 4403);
  CHECK(h.server.opens.size() == 1);
}

TEST_CASE("backoff grows to its cap with full jitter and resets once a connection is stable", "[client_session]") {
  virtual_server::settings s;
  s.refuse_with = 1006;
  harness h(harness::default_config(), s);
  h.default_random = 0.5;
  h.start();
  h.run_for(120'000);

  auto delays = [&](std::size_t from) {
    std::vector<std::int64_t> out;
    for (const auto& [at, a] : h.all<arm_timer_action>(from))
      if (a.timer == timer_kind::reconnect) out.push_back(a.at_ms - at);
    return out;
  };
  auto d = delays(0);
  REQUIRE(d.size() >= 10);
  std::vector<std::int64_t> expected{250, 500, 1'000, 2'000, 4'000, 8'000, 15'000, 15'000, 15'000, 15'000};
  CHECK(std::vector<std::int64_t>(d.begin(), d.begin() + 10) == expected);
  for (unsigned i = 0; i < 10; ++i) CHECK(d[i] == backoff_delay(backoff_policy{}, i, 0.5));
  CHECK(h.session.state() == session_state::reconnecting);

  auto run_until_live = [&] {
    for (int i = 0; i < 400 && h.session.state() != session_state::live; ++i) h.run_for(100);
    REQUIRE(h.session.state() == session_state::live);
  };
  // The server comes back; a drop before the connection is stable keeps the delay growing.
  h.server.cfg.refuse_with.reset();
  run_until_live();
  auto m = h.mark();
  h.server.drop_all(1006, "network");
  h.run_for(0);
  run_until_live();
  CHECK(delays(m) == std::vector<std::int64_t>{15'000});

  // Up 10 s: stable, the attempt counter starts again.
  h.run_for(10'000);
  m = h.mark();
  h.server.drop_all(1006, "network");
  h.run_for(1'000);
  CHECK(delays(m) == std::vector<std::int64_t>{250});
}

TEST_CASE("backoff uses the random number of the input that caused it", "[client_session]") {
  virtual_server::settings s;
  s.refuse_with = 1006;
  harness h(harness::default_config(), s);
  SECTION("random 0 after 4029: at least the backoff minimum, every time") {
    h.server.cfg.refuse_with = 4029;
    h.default_random = 0.0;
    h.start();
    h.run_for(10'000);
    std::vector<std::int64_t> delays;
    for (const auto& [at, a] : h.all<arm_timer_action>())
      if (a.timer == timer_kind::reconnect) delays.push_back(a.at_ms - at);
    REQUIRE(delays.size() >= 10);
    CHECK(delays == std::vector<std::int64_t>(delays.size(), 500));
  }
  SECTION("random close to 1: close to the cap") {
    h.default_random = 0.999;
    h.start();
    h.run_for(200'000);
    auto arms = h.all<arm_timer_action>();
    std::int64_t largest = 0;
    for (const auto& [at, a] : arms)
      if (a.timer == timer_kind::reconnect) largest = std::max(largest, a.at_ms - at);
    CHECK(largest == backoff_delay(backoff_policy{}, 20, 0.999));
    CHECK(largest <= 30'000);
    CHECK(largest >= 29'000);
  }
}

TEST_CASE("random 0 after a reconnect-class close: an immediate retry", "[client_session]") {
  live_session l;
  tick t{t0 + 1'000, 0.0};
  l.s.closed(t, 1, 1006, "network");
  CHECK(l.s.take_actions() == actions{cancel_timer_action{timer_kind::heartbeat}, cancel_timer_action{timer_kind::refresh},
                                      cancel_timer_action{timer_kind::stable},
                                      state_changed_action{session_state::live, session_state::reconnecting, 1006, "network"},
                                      arm_timer_action{timer_kind::reconnect, t.now_ms}});
}

TEST_CASE("handshake timeout: close, reconnect", "[client_session]") {
  virtual_server::settings s;
  s.black_hole = true;
  harness h(harness::default_config(), s);
  h.start();
  h.run_for(10'000);
  auto closes = h.all<close_action>();
  REQUIRE(closes.size() == 1);
  CHECK(closes[0] == std::pair<std::int64_t, close_action>{
                         t0 + 10'000, close_action{1, close_handshake_timeout, "no ready within the handshake timeout"}});
  CHECK(h.session.state() == session_state::reconnecting);
  h.server.cfg.black_hole = false;
  h.run_for(1'000);
  CHECK(h.session.state() == session_state::live);
  CHECK(h.server.opens.size() == 2);
}

TEST_CASE("heartbeat timeout: close 4003, reconnect at once, the late close is ignored", "[client_session]") {
  virtual_server::settings s;
  s.answer_pings = false;
  harness h(harness::default_config(), s);
  h.subscribe("queue.>");
  h.start();
  h.run_for(19'999);
  CHECK(h.received<ping_frame>().empty());
  auto m = h.mark();
  h.run_for(1);
  CHECK(h.since(m) == actions{send_of(1, ping_frame{"2"}), arm_timer_action{timer_kind::pong, t0 + 40'000}});
  m = h.mark();
  h.run_for(20'000);  // to the pong deadline: the reconnect is armed, not yet due
  CHECK(h.since(m) == actions{close_action{1, close_heartbeat_timeout, "no pong within heartbeat_ms"},
                              cancel_timer_action{timer_kind::refresh},
                              state_changed_action{session_state::live, session_state::reconnecting, close_heartbeat_timeout,
                                                   "no pong within heartbeat_ms"},
                              arm_timer_action{timer_kind::reconnect, t0 + 40'250}});
  CHECK(h.session.state() == session_state::reconnecting);  // the echoed close(1, 4003) changed nothing
  h.run_for(250);
  CHECK(h.session.state() == session_state::live);
  CHECK(h.server.opens.size() == 2);
}

TEST_CASE("answered pings keep the connection and space pings by heartbeat_ms", "[client_session]") {
  virtual_server::settings s;
  s.heartbeat_ms = 5'000;
  harness h(harness::default_config(), s);
  h.start();
  h.run_for(60'000);
  std::vector<std::int64_t> ping_times;
  for (const auto& [at, a] : h.all<send_action>())
    if (a.text.find(R"("ping")") != std::string::npos) ping_times.push_back(at - t0);
  CHECK(ping_times == std::vector<std::int64_t>{5'000, 10'000, 15'000, 20'000, 25'000, 30'000, 35'000, 40'000, 45'000,
                                                50'000, 55'000, 60'000});
  CHECK(h.server.opens.size() == 1);
}

TEST_CASE("duplicate suppression on replay", "[client_session]") {
  harness h;
  h.server.cfg.replay_overlap = 5;
  h.subscribe("queue.>");
  h.start();
  for (int i = 0; i < 4; ++i) h.server.publish("queue.support.depth-changed");
  h.run_for(0);
  h.server.drop_all(1006, "network");
  h.run_for(2'000);
  REQUIRE(h.session.state() == session_state::live);
  h.server.publish("queue.support.depth-changed");
  h.run_for(0);
  CHECK(h.delivered_ids() == std::vector<std::string>{"a1-1", "a1-2", "a1-3", "a1-4", "a1-5"});
}

TEST_CASE("reset: the server's position becomes the last id", "[client_session]") {
  harness h;
  h.subscribe("queue.>");

  SECTION("retention_exceeded") {
    h.start();
    for (int i = 0; i < 3; ++i) h.server.publish("queue.support.depth-changed");
    h.run_for(0);
    h.server.drop_all(1006, "network");
    for (int i = 0; i < 7; ++i) h.server.publish("queue.support.depth-changed");
    h.server.retain_from(8);
    auto m = h.mark();
    h.run_for(2'000);
    CHECK(h.delivered_ids() == std::vector<std::string>{"a1-1", "a1-2", "a1-3", "a1-8", "a1-9", "a1-10"});
    auto n = h.notices(m);
    REQUIRE(n.size() == 2);
    CHECK(n[0].kind == notice_kind::reconnected);  // at `ready`; the `reset` comes with the replay
    CHECK(n[1].kind == notice_kind::reset);
    CHECK(n[1].detail == "retention_exceeded");
    CHECK(h.session.last_event_id() == std::optional<std::string>("a1-10"));
  }
  SECTION("epoch_changed") {
    h.start();
    for (int i = 0; i < 3; ++i) h.server.publish("queue.support.depth-changed");
    h.run_for(0);
    h.server.restart(std::string("b2"), 1012);
    h.server.publish("queue.support.depth-changed");
    h.server.publish("queue.support.depth-changed");
    auto m = h.mark();
    h.run_for(2'000);
    h.server.publish("queue.support.depth-changed");
    h.run_for(0);
    CHECK(h.delivered_ids() == std::vector<std::string>{"a1-1", "a1-2", "a1-3", "b2-1", "b2-2", "b2-3"});
    auto n = h.notices(m);
    REQUIRE(n.size() == 2);
    CHECK(n[1].kind == notice_kind::reset);
    CHECK(n[1].detail == "epoch_changed");
    CHECK(h.session.last_event_id() == std::optional<std::string>("b2-3"));
  }
  SECTION("future_id") {
    h.server.publish("queue.support.depth-changed");
    h.server.publish("queue.support.depth-changed");
    REQUIRE(h.session.set_last_event_id("a1-999"));
    h.start();
    REQUIRE(h.server.opens.size() == 1);
    CHECK(h.server.opens[0].last_event_id == "a1-999");
    CHECK(h.received<subscribe_frame>()[0].from == std::optional<std::string>("a1-999"));
    auto n = h.notices();
    REQUIRE(n.size() == 1);
    CHECK(n[0].kind == notice_kind::reset);
    CHECK(n[0].detail == "future_id");
    CHECK(h.session.last_event_id() == std::optional<std::string>("a1-2"));
    h.server.publish("queue.support.depth-changed");
    h.run_for(0);
    CHECK(h.delivered_ids() == std::vector<std::string>{"a1-3"});
  }
}

TEST_CASE("an event from another epoch without `reset`: close and reconnect with the old id", "[client_session]") {
  harness h;
  h.subscribe("queue.>");
  h.start();
  h.server.publish("queue.support.depth-changed");
  h.run_for(0);
  auto m = h.mark();
  h.server.inject(codec::encode_event(make_event("ffff-7", "queue.support.depth-changed")));
  h.run_for(0);
  auto a = h.since(m);
  REQUIRE(a.size() >= 2);
  auto n = std::get<notice_action>(a[0]);
  CHECK(n.kind == notice_kind::error);
  CHECK(n.detail == "epoch_changed");
  CHECK(a[1] == action{close_action{1, close_protocol_violation, "event from another epoch without reset"}});
  h.run_for(2'000);
  CHECK(h.session.state() == session_state::live);
  REQUIRE(h.server.opens.size() == 2);
  CHECK(h.server.opens[1].last_event_id == "a1-1");
  CHECK(h.delivered_ids() == std::vector<std::string>{"a1-1"});
}

TEST_CASE("subscribe refused by the server: the handles of the refused pattern fail", "[client_session]") {
  virtual_server::settings s;
  s.perms = {"queue.>"};
  harness h(harness::default_config(), s);
  auto queue = h.subscribe("queue.>");
  auto agent = h.subscribe("agent.>");
  auto agent2 = h.subscribe("agent.>");
  h.start();
  auto n = h.notices();
  REQUIRE(n.size() == 2);
  CHECK(n[0] == notice_action{notice_kind::subscription_failed, "forbidden_topic", "refused: forbidden_topic", agent});
  CHECK(n[1] == notice_action{notice_kind::subscription_failed, "forbidden_topic", "refused: forbidden_topic", agent2});
  auto subs = h.received<subscribe_frame>();
  REQUIRE(subs.size() == 2);
  CHECK(subs[0].topics == std::vector<std::string>{"agent.>", "queue.>"});
  CHECK(subs[1].topics == std::vector<std::string>{"queue.>"});  // the innocent pattern, again

  h.server.publish("queue.support.depth-changed");
  h.run_for(0);
  auto d = h.all<deliver_action>();
  REQUIRE(d.size() == 1);
  CHECK(d[0].second.handles == std::vector<std::uint64_t>{queue});

  SECTION("later subscribes are refused one by one") {
    auto m = h.mark();
    auto later = h.subscribe("agent.a-1.*");
    CHECK(h.notices(m) == std::vector<notice_action>{
                              {notice_kind::subscription_failed, "forbidden_topic", "refused: forbidden_topic", later}});
  }
  SECTION("too many subscriptions") {
    h.server.cfg.max_patterns = 1;
    auto m = h.mark();
    auto extra = h.subscribe("queue.support.*");
    CHECK(h.notices(m) ==
          std::vector<notice_action>{{notice_kind::subscription_failed, "too_many_subscriptions",
                                      "refused: too_many_subscriptions", extra}});
  }
  // Refused patterns are not asked for again on the next connection.
  h.server.drop_all(1006, "network");
  h.run_for(2'000);
  auto last = h.received<subscribe_frame>().back();
  CHECK(last.topics == std::vector<std::string>{"queue.>"});
}

TEST_CASE("permission revoked: the server removes patterns, their handles are told and dropped", "[client_session]") {
  harness h;
  auto queue = h.subscribe("queue.>");
  auto agent = h.subscribe("agent.>");
  auto agent2 = h.subscribe("agent.>");
  h.start();
  auto m = h.mark();
  h.server.revoke_to({"queue.>"});
  h.run_for(0);
  CHECK(h.since(m) == actions{notice_action{notice_kind::revoked, "permission_revoked", "the server removed `agent.>`", agent},
                              notice_action{notice_kind::revoked, "permission_revoked", "the server removed `agent.>`", agent2}});

  h.server.drop_all(1006, "network");
  h.run_for(2'000);
  REQUIRE(h.session.state() == session_state::live);
  CHECK(h.received<subscribe_frame>().back().topics == std::vector<std::string>{"queue.>"});
  h.server.publish("queue.support.depth-changed");
  h.run_for(0);
  auto d = h.all<deliver_action>();
  REQUIRE(d.size() == 1);
  CHECK(d[0].second.handles == std::vector<std::uint64_t>{queue});
}

TEST_CASE("`closing` with reconnect_after_ms: the next delay is at least that, once", "[client_session]") {
  harness h;
  h.subscribe("queue.>");
  h.start();
  auto m = h.mark();
  h.server.restart(std::nullopt, 1001, 5'000);
  h.run_for(0);
  CHECK(h.since(m) == actions{cancel_timer_action{timer_kind::heartbeat}, cancel_timer_action{timer_kind::refresh},
                              cancel_timer_action{timer_kind::stable},
                              state_changed_action{session_state::live, session_state::reconnecting, 1001, "restart"},
                              arm_timer_action{timer_kind::reconnect, t0 + 5'000}});
  h.run_for(4'999);
  CHECK(h.server.opens.size() == 1);
  h.run_for(1);
  CHECK(h.session.state() == session_state::live);

  // The announcement was used up: the next drop waits the plain backoff (attempt 1).
  m = h.mark();
  h.server.drop_all(1006, "network");
  h.run_for(0);
  auto arms = h.all<arm_timer_action>(m);
  REQUIRE(arms.size() == 1);
  CHECK(arms[0].second == arm_timer_action{timer_kind::reconnect, h.now_ms + 500});
}

TEST_CASE("a live subscribe resumes from the last id when it is the connection's first", "[client_session]") {
  harness h;
  for (int i = 0; i < 4; ++i) h.server.publish("queue.support.depth-changed");
  REQUIRE(h.session.set_last_event_id("a1-2"));
  h.start();
  REQUIRE(h.session.state() == session_state::live);
  CHECK(h.received<subscribe_frame>().empty());
  h.subscribe("queue.>");
  CHECK(h.delivered_ids() == std::vector<std::string>{"a1-3", "a1-4"});
  h.subscribe("agent.>");
  auto subs = h.received<subscribe_frame>();
  REQUIRE(subs.size() == 2);
  CHECK(subs[0].from == std::optional<std::string>("a1-2"));
  CHECK_FALSE(subs[1].from.has_value());
}

TEST_CASE("unsubscribing the last handle of a pattern stops its events", "[client_session]") {
  harness h;
  auto a = h.subscribe("queue.>");
  auto b = h.subscribe("queue.>");
  h.start();
  h.unsubscribe(a);
  CHECK(h.received<unsubscribe_frame>().empty());
  h.server.publish("queue.support.depth-changed");
  h.run_for(0);
  h.unsubscribe(b);
  CHECK(h.received<unsubscribe_frame>() == std::vector<unsubscribe_frame>{{"2", {"queue.>"}}});
  h.server.publish("queue.support.depth-changed");
  h.run_for(0);
  CHECK(h.delivered_ids() == std::vector<std::string>{"a1-1"});
  CHECK(h.notices().empty());
}

TEST_CASE("a token provider failure while connecting is retried with backoff", "[client_session]") {
  harness h;
  h.token_script = {harness::token_answer::failure, harness::token_answer::failure};
  h.start();
  h.run_for(10'000);
  CHECK(h.session.state() == session_state::live);
  auto n = h.notices();
  REQUIRE(n.size() == 2);
  CHECK(n[0].detail == "token_unavailable");
  std::vector<std::int64_t> delays;
  for (const auto& [at, a] : h.all<arm_timer_action>())
    if (a.timer == timer_kind::reconnect) delays.push_back(a.at_ms - at);
  CHECK(delays == std::vector<std::int64_t>{250, 500});
}

TEST_CASE("an outage before the first event loses nothing: `subscribed.head` is the position", "[client_session]") {
  harness h;
  h.server.publish("queue.support.depth-changed");  // before the client: not for it
  h.subscribe("queue.>");
  h.start();
  CHECK(h.session.last_event_id() == std::optional<std::string>("a1-1"));
  h.server.drop_all(1006, "network");
  h.server.publish("queue.support.depth-changed");
  h.run_for(2'000);
  REQUIRE(h.server.opens.size() == 2);
  CHECK(h.server.opens[1].last_event_id == "a1-1");
  CHECK(h.delivered_ids() == std::vector<std::string>{"a1-2"});
}

TEST_CASE("an outage before the epoch's first event loses nothing: `{epoch}-0` is the position", "[client_session]") {
  harness h;
  h.subscribe("queue.>");
  h.start();
  CHECK(h.session.last_event_id() == std::optional<std::string>("a1-0"));
  h.server.drop_all(1006, "network");
  std::vector<std::string> published;
  for (int i = 0; i < 3; ++i) published.push_back(h.server.publish("queue.support.depth-changed"));
  auto m = h.mark();
  h.run_for(2'000);
  REQUIRE(h.server.opens.size() == 2);
  CHECK(h.server.opens[1].last_event_id == "a1-0");
  REQUIRE_FALSE(h.received<subscribe_frame>().empty());
  CHECK(h.received<subscribe_frame>().back().from == std::optional<std::string>("a1-0"));
  CHECK(h.delivered_ids() == published);
  auto n = h.notices(m);
  REQUIRE(n.size() == 1);
  CHECK(n[0].kind == notice_kind::reconnected);  // no reset: nothing was lost
  CHECK(h.session.last_event_id() == std::optional<std::string>("a1-3"));
}

TEST_CASE("resuming from `{epoch}-0` after retention dropped seq 1 is a reset, not a silent gap", "[client_session]") {
  harness h;
  h.subscribe("queue.>");
  h.start();
  REQUIRE(h.session.last_event_id() == std::optional<std::string>("a1-0"));
  h.server.drop_all(1006, "network");
  for (int i = 0; i < 4; ++i) h.server.publish("queue.support.depth-changed");
  h.server.retain_from(3);
  h.run_for(2'000);
  CHECK(h.delivered_ids() == std::vector<std::string>{"a1-3", "a1-4"});
  auto n = h.notices();
  REQUIRE(n.size() == 2);
  CHECK(n[1].kind == notice_kind::reset);
  CHECK(n[1].detail == "retention_exceeded");
}

TEST_CASE("a reset to `{epoch}-0` of a new epoch delivers that epoch's first event", "[client_session]") {
  harness h;
  h.subscribe("queue.>");
  h.start();
  h.server.publish("queue.support.depth-changed");
  h.run_for(0);
  h.server.restart(std::string("b2"), 1012);  // the new epoch is empty: its position is b2-0
  auto m = h.mark();
  h.run_for(2'000);
  auto n = h.notices(m);
  REQUIRE(n.size() == 2);
  CHECK(n[1].kind == notice_kind::reset);
  CHECK(n[1].message == "resume from a1-1 impossible; continuing from the start of epoch b2");
  CHECK(h.session.last_event_id() == std::optional<std::string>("b2-0"));
  h.server.drop_all(1006, "network");  // before b2's first event, too
  h.server.publish("queue.support.depth-changed");
  h.run_for(2'000);
  CHECK(h.delivered_ids() == std::vector<std::string>{"a1-1", "b2-1"});
}

TEST_CASE("a server that names no head (before `{epoch}-0`) leaves the client without a position", "[client_session]") {
  virtual_server::settings old;
  old.null_heads = true;
  harness h(harness::default_config(), old);
  h.subscribe("queue.>");
  h.start();
  CHECK_FALSE(h.session.last_event_id().has_value());
  h.server.drop_all(1006, "network");
  h.server.publish("queue.support.depth-changed");
  h.run_for(2'000);
  REQUIRE(h.server.opens.size() == 2);
  CHECK(h.server.opens[1].last_event_id.empty());
  CHECK(h.delivered_ids().empty());  // what such a server loses; the client does not make it worse
  CHECK(h.session.state() == session_state::live);
}

// ---- a refused token (4401) ------------------------------------------------------------------

namespace {
session_config with_provider() {
  auto c = harness::default_config();
  c.token_provider = true;
  return c;
}
std::vector<notice_action> closed_notices(const harness& h) {
  std::vector<notice_action> out;
  for (const auto& n : h.notices())
    if (n.kind == notice_kind::error && n.detail == "closed") out.push_back(n);
  return out;
}
}  // namespace

TEST_CASE("4401 after a key change: a provider is asked for a fresh token once and the session carries on",
          "[client_session]") {
  auto header = GENERATE(true, false);  // the Authorization header, or the browser's `auth` frame
  INFO("token_in_header " << header);
  auto config = with_provider();
  config.token_in_header = header;
  harness h(config);
  h.subscribe("queue.>");
  h.start();
  auto before = h.server.publish("queue.support.depth-changed");
  h.run_for(0);
  REQUIRE(h.tokens_issued == 1);

  // A restart with a new signing key: the cached token, still unexpired, is refused.
  h.server.change_key();
  h.server.restart(std::nullopt, 1012);
  auto during = h.server.publish("queue.support.depth-changed");
  h.run_for(10'000);
  CHECK(h.session.state() == session_state::live);
  CHECK(h.tokens_issued == 2);
  REQUIRE(h.server.opens.size() == 3);  // the old token, refused; then the fresh one
  auto refusals = 0;
  for (const auto& [at, s] : h.all<state_changed_action>()) refusals += s.code == 4401;
  CHECK(refusals == 1);
  CHECK(closed_notices(h).empty());
  CHECK(h.token_reasons == std::vector<token_reason>{token_reason::connect, token_reason::refused});
  auto after = h.server.publish("queue.support.depth-changed");
  h.run_for(0);
  CHECK(h.delivered_ids() == std::vector<std::string>{before, during, after});

  SECTION("a later key change is recovered from again: the once counts from the last `ready`") {
    h.server.change_key();
    h.server.restart(std::nullopt, 1012);
    h.run_for(10'000);
    CHECK(h.session.state() == session_state::live);
    CHECK(h.tokens_issued == 3);
  }
}

TEST_CASE("4401 for the fresh token too: the session ends with exactly one error notice", "[client_session]") {
  harness h(with_provider());
  h.subscribe("queue.>");

  SECTION("after a reconnect") {
    h.start();
    REQUIRE(h.session.state() == session_state::live);
    h.server.cfg.refuse_with = 4401;  // every handshake: the credentials themselves are bad now
    h.server.drop_all(1006, "network");
    h.run_for(3'600'000);
    CHECK(h.server.opens.size() == 3);
    CHECK(h.tokens_issued == 2);
  }
  SECTION("at start") {
    h.server.cfg.refuse_with = 4401;
    h.start();
    h.run_for(3'600'000);
    CHECK(h.server.opens.size() == 2);
    CHECK(h.tokens_issued == 2);
  }
  CHECK(h.session.state() == session_state::closed);
  CHECK(h.session.final_code() == 4401);
  CHECK(h.timers.empty());
  auto n = closed_notices(h);
  REQUIRE(n.size() == 1);
  CHECK(n[0].close_code == 4401);
  CHECK(n[0].close_reason == "handshake refused");
  CHECK(n[0].message == "stopped for good after close 4401: handshake refused");
  // The notice comes right before the session closes, so listeners learn why before it ends.
  auto log = h.since(0);
  REQUIRE(log.size() >= 2);
  CHECK(std::holds_alternative<notice_action>(log[log.size() - 2]));
  CHECK(std::get<state_changed_action>(log.back()).to == session_state::closed);
}

TEST_CASE("4401 without a token provider is final at once: one fixed token cannot change", "[client_session]") {
  harness h;  // token_provider false: the adapter answers with the same token every time
  h.subscribe("queue.>");
  h.start();
  h.server.change_key();
  h.server.restart(std::nullopt, 1012);
  h.run_for(3'600'000);
  CHECK(h.session.state() == session_state::closed);
  CHECK(h.session.final_code() == 4401);
  CHECK(h.server.opens.size() == 2);
  CHECK(h.tokens_issued == 1);
  auto n = closed_notices(h);
  REQUIRE(n.size() == 1);
  CHECK(n[0].close_code == 4401);
}

TEST_CASE("other final codes are not retried even with a provider", "[client_session]") {
  auto code = GENERATE(as<std::uint16_t>{}, 4403, 4400, 1008);
  INFO(code);
  harness h(with_provider());
  h.subscribe("queue.>");
  h.start();
  h.server.drop_all(code, "final");
  h.run_for(3'600'000);
  CHECK(h.session.final_code() == code);
  CHECK(h.server.opens.size() == 1);
  CHECK(h.tokens_issued == 1);
  REQUIRE(closed_notices(h).size() == 1);
  CHECK(closed_notices(h)[0].close_code == code);
}

// Many seeded runs of random outages: whatever the order of drops, restarts, overflows and
// token expiries, every matching event is delivered exactly once and in order.
TEST_CASE("soak: random drops, restarts and overflows neither lose nor repeat an event", "[client_session]") {
  static constexpr std::uint16_t reconnect_codes[] = {1001, 1006, 1011, 1012, 1013, 4000, 4001, 4003, 4029};
  for (std::uint32_t seed = 1; seed <= 25; ++seed) {
    INFO("seed " << seed);
    std::mt19937 rng(seed);
    auto pick = [&](std::uint32_t n) { return static_cast<std::uint32_t>(rng() % n); };
    harness h;
    h.default_random = 0.3;
    // A log that is empty at the first subscribe gives no position to resume from (section 5:
    // ids start at seq 1), so the run starts with one event the client is not shown.
    h.server.publish("queue.support.depth-changed");
    h.subscribe("queue.>");
    h.subscribe("agent.*.busy");
    h.start();
    std::vector<std::string> expected;
    for (int step = 0; step < 150; ++step) {
      switch (pick(9)) {
        case 0:
        case 1:
        case 2:
          expected.push_back(h.server.publish("queue.support.depth-changed"));
          break;
        case 3:
          expected.push_back(h.server.publish("agent.a-7.busy", R"({"agent_id":"a-7","session_id":"s-1"})"));
          h.server.publish("agent.a-7.break", R"({"agent_id":"a-7"})");  // not subscribed
          break;
        case 4:
          h.server.drop_all(reconnect_codes[pick(std::size(reconnect_codes))], "chaos");
          break;
        case 5:
          h.server.restart(std::nullopt, 1001, pick(2) != 0 ? std::optional<std::int64_t>(2'000) : std::nullopt);
          break;
        case 6:
          h.server.stall(true);
          expected.push_back(h.server.publish("queue.sales.depth-changed"));
          h.server.overflow_all(5'100);
          h.server.stall(false);
          break;
        case 7:
          h.run_for(pick(120'000));
          break;
        case 8:
          h.server.cfg.answer_pings = pick(2) != 0;
          break;
      }
      h.run_for(pick(3'000));
    }
    h.server.cfg.answer_pings = true;
    h.run_for(120'000);
    CHECK(h.session.state() == session_state::live);
    CHECK(h.delivered_ids() == expected);
    CHECK(h.server.opens.size() > 10);  // the run did go through outages
    CHECK(expected.size() > 40);
  }
}

TEST_CASE("a browser session authenticates with `auth` on every connection and resumes", "[client_session]") {
  auto cfg = harness::default_config();
  cfg.token_in_header = false;
  harness h(cfg);
  h.subscribe("queue.>");
  h.start();
  REQUIRE(h.session.state() == session_state::live);
  h.server.publish("queue.support.depth-changed");
  h.run_for(0);
  h.server.drop_all(1006, "network");
  h.server.publish("queue.support.depth-changed");
  h.run_for(2'000);
  REQUIRE(h.session.state() == session_state::live);
  REQUIRE(h.server.opens.size() == 2);
  for (const auto& o : h.server.opens) CHECK(o.authorization.empty());
  auto auths = h.received<auth_frame>();
  REQUIRE(auths.size() == 2);
  CHECK(auths[0].token == auths[1].token);
  // `auth` is the first frame on each connection.
  CHECK(std::holds_alternative<auth_frame>(h.server.received[0].second));
  CHECK(h.delivered_ids() == std::vector<std::string>{"a1-1", "a1-2"});
}

// With epoch changes and retention the server may have to `reset`; the session still never
// delivers an id twice, keeps each epoch in order, and loses nothing it was not told about.
TEST_CASE("soak with epoch changes and retention: no duplicate, gaps only after a reset", "[client_session]") {
  std::ptrdiff_t total_resets = 0, total_missing = 0;
  for (std::uint32_t seed = 100; seed < 120; ++seed) {
    INFO("seed " << seed);
    std::mt19937 rng(seed);
    auto pick = [&](std::uint32_t n) { return static_cast<std::uint32_t>(rng() % n); };
    harness h;
    h.server.publish("queue.support.depth-changed");
    h.subscribe("queue.>");
    h.start();
    std::vector<std::string> published;
    std::uint64_t seq = 1;
    int epochs = 0;
    for (int step = 0; step < 120; ++step) {
      switch (pick(7)) {
        case 0:
        case 1:
        case 2:
          published.push_back(h.server.publish("queue.support.depth-changed"));
          ++seq;
          break;
        case 3:
          h.server.drop_all(1006, "network");
          for (int i = 0; i < 3; ++i) published.push_back(h.server.publish("queue.support.depth-changed"));
          seq += 3;
          if (pick(2) != 0) h.server.retain_from(seq);  // keep only the newest
          break;
        case 4:
          h.server.restart("e" + std::to_string(++epochs), 1012);
          seq = 0;
          published.push_back(h.server.publish("queue.support.depth-changed"));
          ++seq;
          break;
        case 5:
          h.run_for(pick(60'000));
          break;
        case 6:
          h.server.restart(std::nullopt, 1012);
          break;
      }
      h.run_for(pick(3'000));
    }
    h.run_for(60'000);
    CHECK(h.session.state() == session_state::live);

    auto delivered = h.delivered_ids();
    std::set<std::string> unique(delivered.begin(), delivered.end());
    CHECK(unique.size() == delivered.size());
    // Within an epoch, ids only grow.
    for (std::size_t i = 1; i < delivered.size(); ++i) {
      auto a = event_id::parse(delivered[i - 1]);
      auto b = event_id::parse(delivered[i]);
      REQUIRE(a);
      REQUIRE(b);
      if (a->epoch == b->epoch) CHECK(a->seq < b->seq);
    }
    // Every published event was delivered, unless a reset announced a loss.
    auto notices = h.notices();
    auto resets = std::count_if(notices.begin(), notices.end(),
                                [](const notice_action& n) { return n.kind == notice_kind::reset; });
    std::set<std::string> got(delivered.begin(), delivered.end());
    auto missing = std::count_if(published.begin(), published.end(), [&](const std::string& id) { return got.count(id) == 0; });
    if (resets == 0) CHECK(missing == 0);
    total_resets += resets;
    total_missing += missing;
    // The newest event is always there at the end.
    REQUIRE_FALSE(published.empty());
    CHECK(got.count(published.back()) == 1);
  }
  CHECK(total_resets > 0);  // the seeds do reach the reset paths
  CHECK(total_missing > 0);
}

TEST_CASE("only the first subscribe's `head` stands as the position", "[client_session]") {
  client_session s(config());
  tick t{t0, 0.5};
  s.start(t);
  auto exp_s = t0 / 1000 + 900;
  s.token_obtained(t, make_token(exp_s, 1));
  s.opened(t, 1);
  s.frame(t, 1, frame_text(ready_frame{"console", "acme", exp_s, 20'000, std::nullopt}));
  REQUIRE(s.subscribe(t, "queue.>").ok());
  s.frame(t, 1, frame_text(subscribed_frame{"1", {"queue.>"}, std::nullopt}));  // a server before `{epoch}-0`
  CHECK_FALSE(s.last_event_id().has_value());
  REQUIRE(s.subscribe(t, "agent.>").ok());
  s.frame(t, 1, frame_text(subscribed_frame{"2", {"agent.>"}, std::string("a1-9")}));
  CHECK_FALSE(s.last_event_id().has_value());  // events before a1-9 may still be on their way

  SECTION("on the next connection the first subscribe's head counts") {
    s.closed(t, 1, 1006, "network");
    s.take_actions();
    tick t2{t0 + 250, 0.5};
    s.timer_fired(t2, timer_kind::reconnect);
    s.opened(t2, 2);
    s.frame(t2, 2, frame_text(ready_frame{"console", "acme", exp_s, 20'000, std::string("a1-12")}));
    auto frames = sent_frames(s.take_actions());
    REQUIRE(frames.size() == 1);
    CHECK(std::get<subscribe_frame>(frames[0]).req == "3");
    s.frame(t2, 2, frame_text(subscribed_frame{"3", {"agent.>", "queue.>"}, std::string("a1-12")}));
    CHECK(s.last_event_id() == std::optional<std::string>("a1-12"));
  }
}

// ---- event_received: an event the adapter parsed itself (issue 11) -----------------------------

TEST_CASE("event_received: id and topic decide; the deliver names the handles without the frame", "[client_session]") {
  live_session l;
  REQUIRE(l.s.subscribe({t0, 0.5}, ">").value() == 2);
  l.s.take_actions();
  tick t{t0 + 1'000, 0.5};
  l.s.event_received(t, 1, "a1-5", "queue.support.depth-changed", "", false);
  deliver_action expected;
  expected.ev.id = "a1-5";
  expected.ev.topic = "queue.support.depth-changed";
  expected.handles = {1, 2};
  CHECK(l.s.take_actions() == actions{expected});
  CHECK(l.s.last_event_id() == std::optional<std::string>("a1-5"));

  l.s.event_received(t, 1, "a1-7", "agent.a-1.status-changed", "", false);  // only `>` matches
  auto a = l.s.take_actions();
  REQUIRE(a.size() == 1);
  CHECK(std::get<deliver_action>(a[0]).handles == std::vector<std::uint64_t>{2});

  // At or before the last id: dropped, the position stays.
  l.s.event_received(t, 1, "a1-7", "queue.support.depth-changed", "", false);
  l.s.event_received(t, 1, "a1-6", "queue.support.depth-changed", "", false);
  CHECK(l.s.take_actions().empty());
  // Another connection's event: ignored like its frames.
  l.s.event_received(t, 2, "a1-9", "queue.support.depth-changed", "", false);
  CHECK(l.s.take_actions().empty());
  CHECK(l.s.last_event_id() == std::optional<std::string>("a1-7"));

  // What the strict decoder refused, refused here: not an event id ({epoch}-0 is a position,
  // seq stops at 2^53-1), not a topic name. Each is one bad_frame notice; the position stays.
  for (const auto& [id, topic_name] : std::vector<std::pair<std::string, std::string>>{
           {"x", "queue.support.depth-changed"},
           {"a1-0", "queue.support.depth-changed"},
           {"a1-9007199254740992", "queue.support.depth-changed"},
           {"", "queue.support.depth-changed"},
           {"a1-8", "queue..depth-changed"},
           {"a1-8", "queue.*.depth-changed"},
           {"a1-8", ""}}) {
    INFO(id << " " << topic_name);
    l.s.event_received(t, 1, id, topic_name, "", false);
    auto out = l.s.take_actions();
    REQUIRE(out.size() == 1);
    auto n = std::get<notice_action>(out[0]);
    CHECK(n.kind == notice_kind::error);
    CHECK(n.detail == "bad_frame");
  }
  CHECK(l.s.last_event_id() == std::optional<std::string>("a1-7"));
  CHECK(l.s.state() == session_state::live);

  // Another epoch without `reset`: the protocol violation, as from `frame`.
  l.s.event_received(t, 1, "ffff-1", "queue.support.depth-changed", "", false);
  a = l.s.take_actions();
  REQUIRE(a.size() >= 2);
  CHECK(std::get<notice_action>(a[0]).detail == "epoch_changed");
  CHECK(a[1] == action{close_action{1, close_protocol_violation, "event from another epoch without reset"}});
  CHECK(l.s.last_event_id() == std::optional<std::string>("a1-7"));
}

TEST_CASE("event_received before `ready` is a bad_frame; before opened or after stop it is ignored", "[client_session]") {
  client_session s{config()};
  tick t{t0, 0.5};
  REQUIRE(s.subscribe(t, ">").ok());
  s.event_received(t, 1, "a1-1", "queue.support.depth-changed", "", false);  // idle: no connection
  s.start(t);
  s.token_obtained(t, make_token(t0 / 1000 + 900, 1));
  s.take_actions();
  s.event_received(t, 1, "a1-1", "queue.support.depth-changed", "", false);  // connecting: not opened yet
  CHECK(s.take_actions().empty());
  s.opened(t, 1);
  s.take_actions();
  s.event_received(t, 1, "a1-1", "queue.support.depth-changed", "", false);
  CHECK(s.take_actions() ==
        actions{notice_action{notice_kind::error, "bad_frame", "unexpected `event` while authenticating", 0}});
  CHECK_FALSE(s.last_event_id());
  s.stop(t);
  s.take_actions();
  s.event_received(t, 1, "a1-2", "queue.support.depth-changed", "", false);
  CHECK(s.take_actions().empty());
  CHECK_FALSE(s.last_event_id());
}

TEST_CASE("frame: an event whose topic is not a topic name is a bad_frame, as with event_received", "[client_session]") {
  live_session l;
  tick t{t0 + 1'000, 0.5};
  l.s.frame(t, 1, codec::encode_event(make_event("a1-5", "queue..depth-changed")));
  auto a = l.s.take_actions();
  REQUIRE(a.size() == 1);
  CHECK(std::get<notice_action>(a[0]).detail == "bad_frame");
  CHECK_FALSE(l.s.last_event_id());
}

TEST_CASE("`subscribed` per handle: on every connection, at once for a pattern already in force, never after unsubscribe",
          "[client_session]") {
  harness h;
  auto first = h.subscribe("queue.>");
  h.start();
  CHECK(h.subscribed_handles() == std::vector<std::uint64_t>{first});

  // A second handle on a pattern the connection holds is told at once: no frame goes out.
  auto m = h.mark();
  auto before = h.received<subscribe_frame>().size();
  auto second = h.subscribe("queue.>");
  CHECK(h.subscribed_handles(m) == std::vector<std::uint64_t>{second});
  CHECK(h.received<subscribe_frame>().size() == before);

  // After a reconnect both are told again, once the server applied the pattern anew.
  m = h.mark();
  h.server.drop_all(1006, "network");
  h.run_for(5'000);
  REQUIRE(h.session.state() == session_state::live);
  CHECK(h.subscribed_handles(m) == std::vector<std::uint64_t>{first, second});

  // A new pattern on a live connection: told when its `subscribed` comes; an unsubscribed
  // handle is not told, even when the answer was already on its way.
  m = h.mark();
  auto agent = h.subscribe("agent.>");
  auto gone = h.session.subscribe(h.tick(), "session.>").value();
  h.session.unsubscribe(h.tick(), gone);  // before the server's answer is read
  h.run_for(0);
  CHECK(h.subscribed_handles(m) == std::vector<std::uint64_t>{agent});
}

TEST_CASE("a token refresh says why: the refresh timer, then retries keep the reason", "[client_session]") {
  auto cfg = harness::default_config();
  cfg.token_provider = true;
  cfg.refresh_before_ms = 120'000;  // ahead of the server's `expiring` (60 s before exp)
  harness h(cfg);
  h.subscribe("queue.>");
  h.start();
  auto exp_ms = (t0 / 1000 + 900) * 1000;
  h.provider_down_until_ms = exp_ms - 120'000 + 1'000;  // the first refresh attempts fail
  h.run_until(exp_ms - 120'000 + 5'000);
  REQUIRE(h.token_reasons.size() >= 3);
  CHECK(h.token_reasons.front() == token_reason::connect);
  for (std::size_t i = 1; i < h.token_reasons.size(); ++i) CHECK(h.token_reasons[i] == token_reason::refresh);
  CHECK(h.received<refresh_frame>().size() == 1);
  CHECK(h.session.state() == session_state::live);
}

TEST_CASE("disconnect: close 1000, no timer left, idle; start() again resumes with every handle", "[client_session]") {
  harness h;
  auto queue = h.subscribe("queue.>");
  h.start();
  auto before = h.server.publish("queue.support.depth-changed");
  h.run_for(0);

  auto m = h.mark();
  h.session.disconnect(h.tick());
  h.run_for(0);
  CHECK(h.session.state() == session_state::idle);
  CHECK(h.timers.empty());
  auto closes = h.all<close_action>(m);
  REQUIRE(closes.size() == 1);
  CHECK(closes[0].second.code == 1000);

  // Nothing happens while paused, however long; the log moves on.
  auto during = h.server.publish("queue.support.depth-changed");
  h.run_for(600'000);
  CHECK(h.server.opens.size() == 1);
  CHECK(h.tokens_issued == 1);

  h.session.start(h.tick());
  h.run_for(5'000);
  CHECK(h.session.state() == session_state::live);
  REQUIRE(h.server.opens.size() == 2);
  CHECK(h.received<subscribe_frame>().back().from == std::optional<std::string>(before));
  CHECK(h.delivered_ids() == std::vector<std::string>{before, during});
  CHECK(h.all<deliver_action>().back().second.handles == std::vector<std::uint64_t>{queue});
  auto n = h.notices(m);
  REQUIRE(n.size() == 1);
  CHECK(n[0].kind == notice_kind::reconnected);

  SECTION("disconnect while idle or after stop does nothing") {
    h.session.disconnect(h.tick());
    h.session.disconnect(h.tick());
    h.run_for(0);
    CHECK(h.session.state() == session_state::idle);
    h.session.stop(h.tick());
    h.session.disconnect(h.tick());
    CHECK(h.session.state() == session_state::closed);
  }
}
