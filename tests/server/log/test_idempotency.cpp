// idempotency_index (the embedded logs' memory of retried publishes) and the event a JetStream
// message rebuilds from its subject and data (events::pending_event_from_topic).
#include <catch2/catch.hpp>

#include "globemeet/server/events/publish.hpp"
#include "globemeet/server/log/event_log.hpp"
#include "globemeet/server/log/idempotency_index.hpp"
#include "globemeet/server/log/memory_log.hpp"

using namespace globemeet::server;

TEST_CASE("idempotency ids are found within the window and forgotten after it", "[events][idempotency]") {
  log::idempotency_index index;
  index.remember("a", 7, 1000);
  index.remember("a", 9, 1001);  // the first seq stays
  index.remember("b", 8, 2000);
  CHECK(index.find("a", 1500) == 7u);
  CHECK(index.find("c", 1500) == std::nullopt);
  CHECK(index.find("a", 1000 + log::idempotency_window_ms) == 7u);
  CHECK(index.find("a", 1001 + log::idempotency_window_ms) == std::nullopt);
  CHECK(index.find("b", 1001 + log::idempotency_window_ms) == 8u);
  CHECK(index.size() == 1);
}

TEST_CASE("memory_log: a retried batch keeps its first ids and stores only what is new", "[events][idempotency]") {
  log::memory_log log("0123abcd", {});
  auto event = [](int depth, std::string id) {
    auto e = events::pending_event_from_topic("acme", "queue.support.depth-changed",
                                              R"({"queue_id":"support","depth":)" + std::to_string(depth) + "}");
    REQUIRE(e);
    e.value().idempotency_id = std::move(id);
    return std::move(e.value());
  };
  auto first = log.append({event(1, "k0"), event(2, "k1")}, 10);
  REQUIRE(first);
  auto retry = log.append({event(1, "k0"), event(2, "k1"), event(3, "k2")}, 20);
  REQUIRE(retry);
  REQUIRE(retry->size() == 3);
  CHECK(retry.value()[0]->id == first.value()[0]->id);
  CHECK(retry.value()[1]->id == first.value()[1]->id);
  CHECK(retry.value()[2]->seq == 3);
  CHECK(log.bounds().head_seq == 3);
  auto again = log.append({event(1, "k0"), event(2, "k1"), event(3, "k2")}, 30);
  REQUIRE(again);
  CHECK(again.value()[2]->id == retry.value()[2]->id);
  CHECK(log.bounds().head_seq == 3);
}

TEST_CASE("a JetStream message's subject and data rebuild the published event", "[events][idempotency]") {
  auto parsed = events::parse_publish(R"({"type":"queue.depth-changed","subject":"support","data":{"queue_id":"support","depth":1.50,"longest_wait_seconds":3}})", "acme");
  REQUIRE(parsed);
  const events::pending_event& published = parsed.value().front();
  auto rebuilt = events::pending_event_from_topic(published.tenant, published.topic, published.data_json);
  REQUIRE(rebuilt);
  CHECK(rebuilt.value() == published);
  CHECK(rebuilt.value().data_json.find("1.50") != std::string::npos);
  CHECK_FALSE(events::pending_event_from_topic("acme", "queue.support", "{}"));
  CHECK_FALSE(events::pending_event_from_topic("acme", "nothing.support.here", "{}"));
  CHECK_FALSE(events::pending_event_from_topic("acme", "queue.sup port.depth-changed", "{}"));
}
