// GlobeMeet::client against the real server: delivery to handles, RAII unsubscribe, resume
// after the tool's own restart through last_event_id, reset for another epoch, an outage
// before the first event (a proxy cuts the connection), the token provider refreshing a live
// connection, and a final close code ending the client with an error callback.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <string>
#include <vector>

#include "globemeet/client.hpp"
#include "live_server.hpp"
#include "tcp_proxy.hpp"

using namespace std::chrono_literals;
using globemeet::test::live_server;
using globemeet::test::tcp_proxy;
using globemeet::test::token_claims;

namespace {

// What the I/O thread reports, for the test thread to wait on.
class recorder {
 public:
  void add(const std::string& what) {
    std::lock_guard lock(mutex_);
    items_.push_back(what);
    changed_.notify_all();
  }
  // Waits (bounded, never a timing assertion) until `n` items are recorded; returns them.
  std::vector<std::string> wait_for_count(std::size_t n, std::chrono::milliseconds limit = 15s) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, limit, [&] { return items_.size() >= n; });
    return items_;
  }
  std::vector<std::string> items() {
    std::lock_guard lock(mutex_);
    return items_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> items_;
};

globemeet::ClientOptions options_for(const live_server& server, std::string token) {
  globemeet::ClientOptions o;
  o.endpoint = server.ws_url();
  o.token = std::move(token);
  o.backoff_min = 20ms;
  o.backoff_max = 200ms;
  o.on_state = [](const globemeet::StateChange& c) {
    if (c.code != 0) std::fprintf(stderr, "state %s %u %s\n", globemeet::to_string(c.to), unsigned{c.code}, c.reason.c_str());
  };
  return o;
}

// Waits (bounded) for the first `live`: the subscriptions are sent at `ready`, before it.
void wait_live(globemeet::Client& client) {
  for (int i = 0; i < 300 && client.state() != globemeet::State::live; ++i) std::this_thread::sleep_for(50ms);
  REQUIRE(client.state() == globemeet::State::live);
}

}  // namespace

TEST_CASE("events reach the matching handles; a destroyed Subscription receives nothing more", "[client_live]") {
  live_server server;
  recorder depth, all;
  globemeet::Client client(options_for(server, server.mint()));
  auto everything = client.subscribe(">", [&](const globemeet::Event& e) { all.add(e.id); });
  std::optional<globemeet::Subscription> support =
      client.subscribe("queue.support.*", [&](const globemeet::Event& e) {
        CHECK(e.topic == "queue.support.depth-changed");
        CHECK(e.type == "queue.depth-changed");
        CHECK(e.subject == "support");
        CHECK(e.tenant == "acme");
        CHECK(e.raw.find("\"op\":\"event\"") != std::string::npos);
        CHECK(e.data_json.find("\"queue_id\":\"support\"") != std::string::npos);
        depth.add(e.id);
      });
  client.start();
  wait_live(client);
  REQUIRE(all.wait_for_count(0).empty());

  const auto first = server.publish_depth("support", 2);
  const auto other = server.publish_depth("sales", 1);
  CHECK(depth.wait_for_count(2) == first);
  std::vector<std::string> expected_all = first;
  expected_all.insert(expected_all.end(), other.begin(), other.end());
  CHECK(all.wait_for_count(3) == expected_all);
  CHECK(client.last_event_id() == other.back());

  REQUIRE(support->active());
  support.reset();  // unsubscribes
  const auto later = server.publish_depth("support", 1);
  expected_all.push_back(later.front());
  CHECK(all.wait_for_count(4) == expected_all);  // `>` still gets it, in order
  CHECK(depth.items() == first);                 // the dropped handle does not

  client.stop();
  CHECK(client.state() == globemeet::State::closed);
  CHECK(client.final_code() == 1000);
}

TEST_CASE("a tool resumes after its own restart from the persisted last_event_id", "[client_live]") {
  live_server server;
  // The position goes back in the type it came out in: last_event_id() and
  // ClientOptions::last_event_id are both std::optional<std::string>.
  std::optional<std::string> persisted;
  {
    recorder seen;
    globemeet::Client first(options_for(server, server.mint()));
    auto sub = first.subscribe("queue.>", [&](const globemeet::Event& e) { seen.add(e.id); });
    first.start();
    wait_live(first);
    const auto ids = server.publish_depth("support", 2);
    REQUIRE(seen.wait_for_count(2) == ids);
    persisted = first.last_event_id();
    REQUIRE(persisted == ids.back());
    first.stop();
  }
  const auto missed = server.publish_depth("support", 3);

  recorder seen, resets;
  auto options = options_for(server, server.mint());
  options.last_event_id = persisted;
  options.on_reset = [&](const std::string& reason) { resets.add(reason); };
  globemeet::Client second(options);
  auto sub = second.subscribe("queue.>", [&](const globemeet::Event& e) { seen.add(e.id); });
  second.start();
  CHECK(seen.wait_for_count(3) == missed);
  const auto live = server.publish_depth("support", 1);
  std::vector<std::string> expected = missed;
  expected.push_back(live.front());
  CHECK(seen.wait_for_count(4) == expected);
  CHECK(resets.items().empty());
}

TEST_CASE("an id of another epoch is answered by reset epoch_changed", "[client_live]") {
  live_server server;
  const auto before = server.publish_depth("support", 2);
  recorder seen, resets;
  auto options = options_for(server, server.mint());
  options.last_event_id = "abcdef-7";
  options.on_reset = [&](const std::string& reason) { resets.add(reason); };
  globemeet::Client client(options);
  auto sub = client.subscribe("queue.>", [&](const globemeet::Event& e) { seen.add(e.id); });
  client.start();
  CHECK(resets.wait_for_count(1) == std::vector<std::string>{"epoch_changed"});
  CHECK(seen.wait_for_count(2) == before);  // every retained event of the new epoch
}

TEST_CASE("an outage before the first event loses nothing: the client resumes from `{epoch}-0`", "[client_live]") {
  live_server server;
  tcp_proxy proxy(server.port());
  recorder seen, reconnects, resets;
  auto options = options_for(server, server.mint());
  options.endpoint = proxy.ws_url();
  options.on_reconnect = [&] { reconnects.add("reconnected"); };
  options.on_reset = [&](const std::string& reason) { resets.add(reason); };
  globemeet::Client client(options);
  auto sub = client.subscribe("queue.>", [&](const globemeet::Event& e) { seen.add(e.id); });
  client.start();
  wait_live(client);
  // `subscribed` names the empty log's head, the position before its first event.
  for (int i = 0; i < 300 && !client.last_event_id(); ++i) std::this_thread::sleep_for(10ms);
  const auto position = client.last_event_id();
  REQUIRE(position.has_value());
  CHECK(position->ends_with("-0"));

  proxy.cut_and_hold();
  const auto missed = server.publish_depth("support", 3);
  CHECK(missed.front().substr(0, missed.front().find('-')) == position->substr(0, position->find('-')));
  proxy.release();
  CHECK(reconnects.wait_for_count(1).size() == 1);
  CHECK(seen.wait_for_count(3) == missed);
  const auto live = server.publish_depth("support", 1);
  std::vector<std::string> expected = missed;
  expected.push_back(live.front());
  CHECK(seen.wait_for_count(4) == expected);
  CHECK(resets.items().empty());
}

TEST_CASE("the token provider refreshes a live connection before the token expires", "[client_live]") {
  live_server server({"--token-grace-ms", "500"});
  std::atomic<int> calls{0};
  recorder states;
  auto options = options_for(server, "");
  options.token_provider = [&] {
    ++calls;
    return server.mint(token_claims{.lifetime_s = 3});
  };
  options.on_state = [&](const globemeet::StateChange& c) { states.add(globemeet::to_string(c.to)); };
  globemeet::Client client(options);
  recorder seen;
  auto sub = client.subscribe(">", [&](const globemeet::Event& e) { seen.add(e.id); });
  client.start();
  wait_live(client);
  // Well past the first token's exp + grace: without refresh the server closes with 4001.
  std::this_thread::sleep_for(6s);
  const auto ids = server.publish_depth("support", 1);
  CHECK(seen.wait_for_count(1) == ids);
  CHECK(calls.load() >= 3);
  const auto s = states.items();
  CHECK(std::count(s.begin(), s.end(), std::string("live")) == 1);  // never reconnected
  CHECK(std::count(s.begin(), s.end(), std::string("reconnecting")) == 0);
}

TEST_CASE("a final close code ends the client with one error; an invalid pattern is refused locally",
          "[client_live]") {
  live_server server;
  std::mutex mutex;
  std::vector<globemeet::Error> errors;
  auto options = options_for(server, server.mint(token_claims{.tenant = "not a tenant!"}));
  options.on_error = [&](const globemeet::Error& e) {
    std::lock_guard lock(mutex);
    errors.push_back(e);
  };
  globemeet::Client client(options);
  CHECK_THROWS_AS(client.subscribe("queue.>.x", [](const globemeet::Event&) {}), globemeet::ClientError);
  auto sub = client.subscribe(">", [](const globemeet::Event&) {});
  client.start();
  const auto code = client.wait_for(15s);
  REQUIRE(code.has_value());
  CHECK(*code == 4401);
  CHECK(client.state() == globemeet::State::closed);
  CHECK(client.final_reason().find("401") != std::string::npos);
  std::lock_guard lock(mutex);
  REQUIRE(errors.size() == 1);  // wait() returns after the callbacks of the final actions
  CHECK(errors[0].code == "closed");
  CHECK(errors[0].close_code == 4401);
  CHECK(errors[0].reason == client.final_reason());
  CHECK(errors[0].message.find("4401") != std::string::npos);
}

TEST_CASE("options that cannot work are refused at construction", "[client_live]") {
  globemeet::ClientOptions o;
  o.endpoint = "http://127.0.0.1/v1/events";
  o.token = "t";
  CHECK_THROWS_AS(globemeet::Client(o), globemeet::ClientError);
  o.endpoint = "ws://127.0.0.1/v1/events";
  o.token.clear();
  CHECK_THROWS_AS(globemeet::Client(o), globemeet::ClientError);
  o.token = "t";
  o.last_event_id = "not-an-id";
  CHECK_THROWS_AS(globemeet::Client(o), globemeet::ClientError);
  o.last_event_id.reset();
  // No position spelled either way is accepted: nullopt, or the empty string of 0.1.
  CHECK_NOTHROW(globemeet::Client(o));
  o.last_event_id = "";
  CHECK_NOTHROW(globemeet::Client(o));
  o.last_event_id = "6f1c2a9e-0";  // {epoch}-0: before the first event of that epoch
  CHECK_NOTHROW(globemeet::Client(o));
  o.last_event_id.reset();
  o.endpoint = "wss://127.0.0.1/v1/events";
  o.ca_file = "/nonexistent/ca.pem";
  CHECK_THROWS_AS(globemeet::Client(o), globemeet::ClientError);
}
