// The client session's part of issue 17 (docs/protocol.md sections 5.3, 7.1, 7.2, 9): the
// current state on subscribe (snapshot), conflation as an option, and the delivery delay with
// its running p50/p99. Exact action sequences, driven by hand in virtual time, and scenarios
// against the virtual server.
#include <catch2/catch.hpp>

#include "globemeet/core/client_session.hpp"
#include "globemeet/core/codec.hpp"
#include "virtual_server.hpp"

using namespace globemeet::core;
using globemeet::test::harness;
using globemeet::test::make_token;
using actions = std::vector<action>;

namespace {

constexpr std::int64_t t_event = 1'795'802'531'204;  // 2026-11-27T18:02:11.204Z, every event's `time` here
const std::string event_time = "2026-11-27T18:02:11.204Z";

std::string text_of(const server_frame& f) { return codec::encode(f); }
send_action send_of(std::uint64_t connection, const client_frame& f) { return {connection, codec::encode(f)}; }

event make_event(std::string id, std::string topic, bool snapshot = false) {
  event ev;
  ev.id = std::move(id);
  ev.source = "/tenants/acme/queues/support";
  ev.type = "queue.depth-changed";
  ev.subject = "support";
  ev.time = event_time;
  ev.topic = std::move(topic);
  ev.tenant = "acme";
  ev.data_json = R"({"queue_id":"support","depth":7,"longest_wait_seconds":42})";
  ev.snapshot = snapshot;
  return ev;
}

subscribe_frame subscribe_of(std::string req, std::vector<std::string> topics, std::optional<std::string> from,
                             bool snapshot, bool conflate = false) {
  subscribe_frame f{std::move(req), std::move(topics), std::move(from)};
  f.snapshot = snapshot;
  f.conflate = conflate;
  return f;
}

notice_action subscribed_notice(const std::string& pattern, std::uint64_t handle) {
  return {notice_kind::subscribed, pattern, "subscribed to `" + pattern + "`", handle};
}

// Handle 1 `queue.support.*` (no snapshot) and handle 2 `queue.>` (snapshot), up to `ready`,
// whose server clock is 250 ms ahead of ours. `now` is 30 ms after every event's `time`.
struct snapshot_session {
  session_config cfg;
  client_session s;
  tick t{t_event + 30, 0.5};
  std::int64_t exp_s = t_event / 1000 + 900;
  std::string token = make_token(exp_s, 1);

  explicit snapshot_session(bool conflate = false) : cfg(config(conflate)), s(cfg) {
    REQUIRE(s.subscribe(t, "queue.support.*").value() == 1);
    REQUIRE(s.subscribe(t, "queue.>", subscribe_options{true}).value() == 2);
    s.start(t);
    s.token_obtained(t, token);
    s.opened(t, 1);
    s.take_actions();
  }
  static session_config config(bool conflate) {
    auto c = harness::default_config();
    c.conflate = conflate;
    return c;
  }
  ready_frame ready() const { return ready_frame{"console", "acme", exp_s, 20'000, std::string("a1-4"), t.now_ms + 250}; }
};

}  // namespace

TEST_CASE("snapshot: the subscribe frame asks for it, snapshot events go to the handle that asked, "
          "`snapshotted` tells it, and live events follow to everyone", "[client_session][snapshot]") {
  snapshot_session x;
  auto& s = x.s;
  s.frame(x.t, 1, text_of(x.ready()));
  CHECK(s.take_actions() ==
        actions{cancel_timer_action{timer_kind::handshake},
                state_changed_action{session_state::authenticating, session_state::live, 0, ""},
                send_of(1, subscribe_of("1", {"queue.>", "queue.support.*"}, std::nullopt, true)),
                arm_timer_action{timer_kind::heartbeat, x.t.now_ms + 20'000},
                arm_timer_action{timer_kind::refresh, x.exp_s * 1000 - 60'000},
                arm_timer_action{timer_kind::stable, x.t.now_ms + 10'000}});
  s.frame(x.t, 1, text_of(subscribed_frame{"1", {"queue.>", "queue.support.*"}, std::string("a1-4")}));
  CHECK(s.take_actions() == actions{subscribed_notice("queue.>", 2), subscribed_notice("queue.support.*", 1)});
  CHECK(s.last_event_id() == std::optional<std::string>("a1-4"));

  // The latest event of each topic, at most the head: ids before the position, delivered anyway,
  // to handle 2 only (handle 1 matches the first but did not ask), with their age as delay.
  auto snap1 = make_event("a1-2", "queue.support.depth-changed", true);
  auto snap2 = make_event("a1-4", "queue.sales.depth-changed", true);
  s.frame(x.t, 1, codec::encode_event(snap1));
  s.frame(x.t, 1, codec::encode_event(snap2));
  CHECK(s.take_actions() == actions{deliver_action{codec::encode_event(snap1), snap1, {2}, true, 280},
                                    deliver_action{codec::encode_event(snap2), snap2, {2}, true, 280}});
  CHECK(s.last_event_id() == std::optional<std::string>("a1-4"));  // not moved
  s.frame(x.t, 1, text_of(snapshotted_frame{"1", 2}));
  CHECK(s.take_actions() ==
        actions{notice_action{notice_kind::snapshotted, "2", "the snapshot of `queue.>` is complete (2 events)", 2}});

  auto live = make_event("a1-5", "queue.support.depth-changed");
  s.frame(x.t, 1, codec::encode_event(live));
  CHECK(s.take_actions() == actions{deliver_action{codec::encode_event(live), live, {1, 2}, false, 280}});
  // A stray snapshot event now (nobody awaits one) goes nowhere; a live duplicate is still dropped.
  s.frame(x.t, 1, codec::encode_event(snap1));
  s.frame(x.t, 1, codec::encode_event(live));
  CHECK(s.take_actions().empty());
  CHECK(s.latency() == latency_stats{1, 280, 280, 250});  // the live event only
}

TEST_CASE("snapshot through event_received: the adapter's flag and time decide as the frame would",
          "[client_session][snapshot]") {
  snapshot_session x;
  auto& s = x.s;
  s.frame(x.t, 1, text_of(x.ready()));
  s.frame(x.t, 1, text_of(subscribed_frame{"1", {"queue.>", "queue.support.*"}, std::string("a1-4")}));
  s.take_actions();
  s.event_received(x.t, 1, "a1-3", "queue.support.depth-changed", event_time, true);
  auto snap = event{"a1-3", {}, {}, {}, {}, "queue.support.depth-changed", {}, {}, true};
  CHECK(s.take_actions() == actions{deliver_action{"", snap, {2}, true, 280}});
  s.event_received(x.t, 1, "a1-3", "queue.support.depth-changed", "not a time", true);  // again: no suppression
  CHECK(s.take_actions() == actions{deliver_action{"", snap, {2}, true, std::nullopt}});
  s.event_received(x.t, 1, "a1-0", "queue.support.depth-changed", event_time, true);  // seq 0 is no event
  CHECK(s.take_actions() ==
        actions{notice_action{notice_kind::error, "bad_frame", "event id `a1-0` is not an event id", 0}});
  s.event_received(x.t, 1, "a1-6", "queue.support.depth-changed", event_time, false);
  auto live = event{"a1-6", {}, {}, {}, {}, "queue.support.depth-changed", {}, {}, false};
  CHECK(s.take_actions() == actions{deliver_action{"", live, {1, 2}, false, 280}});
  CHECK(s.last_event_id() == std::optional<std::string>("a1-6"));
}

TEST_CASE("an event whose `snapshot` is not true is a bad frame", "[client_session][snapshot]") {
  snapshot_session x;
  auto& s = x.s;
  s.frame(x.t, 1, text_of(x.ready()));
  s.take_actions();
  auto text = codec::encode_event(make_event("a1-5", "queue.support.depth-changed"));
  text.replace(text.find(R"("data":)"), 0, R"("snapshot":false,)");
  s.frame(x.t, 1, text);
  CHECK(s.take_actions() ==
        actions{notice_action{notice_kind::error, "bad_frame", "member 'snapshot': expected true or no member, got false", 0}});
}

TEST_CASE("conflate: every subscribe frame carries it", "[client_session][snapshot]") {
  snapshot_session x(true);
  auto& s = x.s;
  s.frame(x.t, 1, text_of(x.ready()));
  s.take_actions();
  REQUIRE(s.subscribe(x.t, "agent.>").value() == 3);
  CHECK(s.take_actions() == actions{send_of(1, subscribe_of("2", {"agent.>"}, std::nullopt, false, true))});
  CHECK(s.take_actions().empty());
}

TEST_CASE("a snapshot handle on a pattern the connection holds asks for that pattern again, and only it "
          "gets the snapshot", "[client_session][snapshot]") {
  snapshot_session x;
  auto& s = x.s;
  s.frame(x.t, 1, text_of(x.ready()));
  s.frame(x.t, 1, text_of(subscribed_frame{"1", {"queue.>", "queue.support.*"}, std::string("a1-4")}));
  s.frame(x.t, 1, text_of(snapshotted_frame{"1", 0}));
  s.take_actions();

  // Without the option, a held pattern needs nothing from the server.
  REQUIRE(s.subscribe(x.t, "queue.support.*").value() == 3);
  CHECK(s.take_actions() == actions{subscribed_notice("queue.support.*", 3)});
  // With it, the pattern goes out again with `snapshot`; handle 2 had its snapshot already.
  REQUIRE(s.subscribe(x.t, "queue.>", subscribe_options{true}).value() == 4);
  CHECK(s.take_actions() ==
        actions{subscribed_notice("queue.>", 4), send_of(1, subscribe_of("2", {"queue.>"}, std::nullopt, true))});
  s.frame(x.t, 1, text_of(subscribed_frame{"2", {"queue.>"}, std::string("a1-9")}));
  CHECK(s.take_actions().empty());  // every handle of it was told already
  auto snap = make_event("a1-9", "queue.support.depth-changed", true);
  s.frame(x.t, 1, codec::encode_event(snap));
  s.frame(x.t, 1, text_of(snapshotted_frame{"2", 1}));
  CHECK(s.take_actions() ==
        actions{deliver_action{codec::encode_event(snap), snap, {4}, true, 280},
                notice_action{notice_kind::snapshotted, "1", "the snapshot of `queue.>` is complete (1 events)", 4}});
  CHECK(s.last_event_id() == std::optional<std::string>("a1-4"));
}

TEST_CASE("after a reconnect the resume frame carries `snapshot`: a possible resume replays, a reset "
          "brings the snapshot", "[client_session][snapshot]") {
  for (const bool reset : {false, true}) {
    DYNAMIC_SECTION((reset ? "reset" : "resume")) {
      snapshot_session x;
      auto& s = x.s;
      s.frame(x.t, 1, text_of(x.ready()));
      s.frame(x.t, 1, text_of(subscribed_frame{"1", {"queue.>", "queue.support.*"}, std::string("a1-4")}));
      s.frame(x.t, 1, text_of(snapshotted_frame{"1", 0}));
      s.event_received(x.t, 1, "a1-6", "queue.support.depth-changed", event_time, false);
      s.closed(x.t, 1, 1006, "network");
      s.timer_fired(x.t, timer_kind::reconnect);
      s.opened(x.t, 2);
      s.take_actions();
      s.frame(x.t, 2, text_of(x.ready()));
      auto sent = s.take_actions();
      CHECK(std::find(sent.begin(), sent.end(),
                      action{send_of(2, subscribe_of("2", {"queue.>", "queue.support.*"}, std::string("a1-6"), true))}) !=
            sent.end());
      s.frame(x.t, 2, text_of(subscribed_frame{"2", {"queue.>", "queue.support.*"}, std::string("a1-9")}));
      s.take_actions();
      if (!reset) {
        auto replayed = make_event("a1-8", "queue.support.depth-changed");
        s.frame(x.t, 2, codec::encode_event(replayed));
        s.frame(x.t, 2, text_of(replayed_frame{"2", 1}));
        CHECK(s.take_actions() == actions{deliver_action{codec::encode_event(replayed), replayed, {1, 2}, false, 280}});
        // Nobody awaits a snapshot any more.
        s.event_received(x.t, 2, "a1-2", "queue.support.depth-changed", event_time, true);
        CHECK(s.take_actions().empty());
        CHECK(s.latency().count == 1);  // the replayed event is not measured
        CHECK(s.last_event_id() == std::optional<std::string>("a1-8"));
      } else {
        s.frame(x.t, 2, text_of(reset_frame{"retention_exceeded", std::string("a1-6"), std::string("a1-9")}));
        auto snap = make_event("a1-9", "queue.sales.depth-changed", true);
        s.frame(x.t, 2, codec::encode_event(snap));
        s.frame(x.t, 2, text_of(snapshotted_frame{"2", 1}));
        s.frame(x.t, 2, text_of(replayed_frame{"2", 0}));
        auto actions_now = s.take_actions();
        REQUIRE(actions_now.size() == 3);
        CHECK(std::get<notice_action>(actions_now[0]).kind == notice_kind::reset);
        CHECK(actions_now[1] == action{deliver_action{codec::encode_event(snap), snap, {2}, true, 280}});
        CHECK(actions_now[2] ==
              action{notice_action{notice_kind::snapshotted, "1", "the snapshot of `queue.>` is complete (1 events)", 2}});
        CHECK(s.last_event_id() == std::optional<std::string>("a1-9"));  // the reset's position
      }
      // Live again: measured.
      s.event_received(x.t, 2, "a1-10", "queue.support.depth-changed", event_time, false);
      CHECK(s.latency().count == 2);
    }
  }
}

TEST_CASE("latency: the offset from ready, refined by pongs; a server without time_ms leaves it at 0",
          "[client_session][latency]") {
  SECTION("with time_ms") {
    snapshot_session x;
    auto& s = x.s;
    s.frame(x.t, 1, text_of(x.ready()));  // the server is 250 ms ahead
    s.frame(x.t, 1, text_of(subscribed_frame{"1", {"queue.>", "queue.support.*"}, std::string("a1-4")}));
    s.take_actions();
    CHECK(s.latency() == latency_stats{0, 0, 0, 250});
    // The ping goes out at +20 s; its pong comes 40 ms later with the server's clock 100 ms ahead.
    tick ping{x.t.now_ms + 20'000, 0.5};
    s.timer_fired(ping, timer_kind::heartbeat);
    s.take_actions();
    s.frame(tick{ping.now_ms + 40, 0.5}, 1, text_of(pong_frame{"2", ping.now_ms + 20 + 100}));
    CHECK(s.latency().clock_offset_ms == 100);
    tick later{ping.now_ms + 40, 0.5};
    s.event_received(later, 1, "a1-5", "queue.support.depth-changed", event_time, false);
    auto delivered = s.take_actions();
    REQUIRE(delivered.size() == 3);  // cancel pong, arm heartbeat, deliver
    CHECK(std::get<deliver_action>(delivered[2]).delay_ms == later.now_ms + 100 - t_event);
  }
  SECTION("without") {
    snapshot_session x;
    auto& s = x.s;
    auto old = x.ready();
    old.time_ms.reset();
    s.frame(x.t, 1, text_of(old));
    s.event_received(x.t, 1, "a1-5", "queue.support.depth-changed", event_time, false);
    auto delivered = s.take_actions();
    CHECK(std::get<deliver_action>(delivered.back()).delay_ms == 30);
    CHECK(s.latency() == latency_stats{1, 30, 30, 0});
  }
}

TEST_CASE("scenario: a dashboard that comes back after retention dropped its position gets the snapshot in "
          "place of the replay", "[client_session][snapshot][scenario]") {
  harness h;
  auto depth = h.subscribe("queue.*.depth-changed", subscribe_options{true});
  auto all = h.subscribe("queue.>");
  h.server.publish("queue.support.depth-changed");  // a1-1
  h.server.publish("queue.sales.depth-changed");    // a1-2
  h.server.publish("queue.support.depth-changed");  // a1-3
  h.start();
  h.run_for(100);
  // The first connection's snapshot: the latest of each topic, to the handle that asked.
  auto first = h.all<deliver_action>();
  REQUIRE(first.size() == 2);
  CHECK(first[0].second.ev.id == "a1-2");
  CHECK(first[1].second.ev.id == "a1-3");
  for (const auto& [at, d] : first) CHECK((d.snapshot && d.handles == std::vector<std::uint64_t>{depth}));
  CHECK(h.session.last_event_id() == std::optional<std::string>("a1-3"));  // the head, not the snapshot

  h.server.publish("queue.support.depth-changed");  // a1-4, live to both
  h.run_for(100);
  CHECK(h.all<deliver_action>().back().second.handles == std::vector<std::uint64_t>{depth, all});
  h.server.drop_all(1006);
  h.server.publish("queue.sales.depth-changed");  // a1-5 and a1-6 while away, then retention drops them
  h.server.publish("queue.sales.abandoned");
  h.server.publish("queue.support.depth-changed");  // a1-7
  h.server.retain_from(7);
  auto m = h.mark();
  h.run_for(60'000);
  // No replay: the snapshot of both patterns' topics that the log retains, to the snapshot handle.
  auto after = h.all<deliver_action>(m);
  REQUIRE(after.size() == 1);
  CHECK(after[0].second.ev.id == "a1-7");
  CHECK(after[0].second.snapshot);
  CHECK(after[0].second.handles == std::vector<std::uint64_t>{depth});
  auto told = h.notices(m);
  CHECK(std::count_if(told.begin(), told.end(), [](const notice_action& n) { return n.kind == notice_kind::reset; }) == 1);
  CHECK(std::count_if(told.begin(), told.end(), [&](const notice_action& n) {
          return n.kind == notice_kind::snapshotted && n.handle == depth && n.detail == "1";
        }) == 1);
  CHECK(h.session.last_event_id() == std::optional<std::string>("a1-7"));
}
