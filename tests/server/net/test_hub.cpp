#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <thread>

#include "hub.hpp"
#include "globemeet/server/log/memory_log.hpp"

namespace server_log = globemeet::server::log;

using namespace globemeet::server;
using namespace globemeet::server::net;

namespace {

struct recording_sink final : event_sink {
  std::vector<std::string> ids;
  void deliver_live(std::span<const event_run> runs, std::int64_t) override {
    for (const auto& run : runs)
      for (const auto& event : run) ids.push_back(event->id);
    ++calls;
  }
  int calls = 0;
};

events::pending_event depth(std::string tenant, std::string queue) {
  return {tenant, "queue.depth-changed", queue, "queue." + queue + ".depth-changed", "/tenants/" + tenant + "/queues/" + queue,
          R"({"queue_id":")" + queue + R"(","depth":1,"longest_wait_seconds":0})"};
}

std::string append(server_log::memory_log& log, events::pending_event ev) {
  std::vector<events::pending_event> batch;
  batch.push_back(std::move(ev));
  auto stored = log.append(std::move(batch), 1'000);
  REQUIRE(stored.ok());
  return stored.value()[0]->id;
}

}  // namespace

TEST_CASE("fan-out: matching connections of the tenant, each once", "[hub]") {
  server_log::memory_log log("0123456789abcdef", {});
  hub h(log);
  recording_sink a, b, other_tenant;
  std::vector<std::string> overlapping{">", "queue.>", "queue.support.*"};
  std::vector<std::string> sales{"queue.sales.*"};
  std::vector<std::string> all{">"};
  std::optional<server_log::log_bounds> seen;
  h.subscribe("acme", 1, a, overlapping, [&](const server_log::log_bounds& bounds) { seen = bounds; });
  h.subscribe("acme", 2, b, sales, [](const server_log::log_bounds&) {});
  h.subscribe("globex", 3, other_tenant, all, [](const server_log::log_bounds&) {});
  REQUIRE(seen);
  CHECK(seen->head_seq == 0);
  CHECK(h.head().str() == "0123456789abcdef-0");  // before the first event

  auto support = append(log, depth("acme", "support"));
  auto sales_id = append(log, depth("acme", "sales"));
  CHECK(a.ids == std::vector<std::string>{support, sales_id});
  CHECK(b.ids == std::vector<std::string>{sales_id});
  CHECK(other_tenant.ids.empty());

  h.subscribe("acme", 2, b, all, [&](const server_log::log_bounds& bounds) { seen = bounds; });
  CHECK(seen->head_seq == 2);  // the head taken under the lock: everything after is live
  CHECK(h.head().str() == sales_id);
  std::vector<std::string> drop{">"};
  h.unsubscribe("acme", 1, drop);
  auto third = append(log, depth("acme", "support"));
  CHECK(a.ids.size() == 3);  // still holds queue.> and queue.support.*
  CHECK(b.ids.back() == third);

  h.detach("acme", 1, overlapping);
  append(log, depth("acme", "support"));
  CHECK(a.ids.size() == 3);  // never called after detach
  CHECK(h.tenant_count() == 2);
  h.detach("acme", 2, all);
  h.detach("acme", 2, sales);
  CHECK(h.tenant_count() == 1);
}

TEST_CASE("fan-out: a batch reaches each receiver in one call, its events in seq order", "[hub]") {
  server_log::memory_log log("0123456789abcdef", {});
  hub h(log);
  recording_sink both, support_only;
  const std::vector<std::string> all{"queue.>"}, support{"queue.support.depth-changed"};
  h.subscribe("acme", 1, both, all, [](const server_log::log_bounds&) {});
  h.subscribe("acme", 2, support_only, support, [](const server_log::log_bounds&) {});
  std::vector<events::pending_event> batch;
  for (const char* queue : {"support", "support", "sales", "support"}) batch.push_back(depth("acme", queue));
  auto stored = log.append(std::move(batch), 1'000);
  REQUIRE(stored.ok());
  const auto& ids = stored.value();
  // Runs: [support, support], [sales], [support]. The wildcard holder gets every event in seq
  // order (a client drops an event whose id is not after its last one).
  CHECK(both.ids == std::vector<std::string>{ids[0]->id, ids[1]->id, ids[2]->id, ids[3]->id});
  CHECK(both.calls == 1);
  CHECK(support_only.ids == std::vector<std::string>{ids[0]->id, ids[1]->id, ids[3]->id});
  CHECK(support_only.calls == 1);

  // The next batch starts afresh (no receiver keeps a count from the last one).
  auto next = append(log, depth("acme", "sales"));
  CHECK(both.ids.back() == next);
  CHECK(both.calls == 2);
  CHECK(support_only.calls == 1);
}

TEST_CASE("fan-out: a batch mixing tenants reaches each tenant's receivers only", "[hub]") {
  server_log::memory_log log("0123456789abcdef", {});
  hub h(log);
  recording_sink acme_all, globex_all, globex_sales;
  const std::vector<std::string> all{">"}, sales{"queue.sales.*"};
  h.subscribe("acme", 1, acme_all, all, [](const server_log::log_bounds&) {});
  h.subscribe("globex", 2, globex_all, all, [](const server_log::log_bounds&) {});
  h.subscribe("globex", 3, globex_sales, sales, [](const server_log::log_bounds&) {});
  std::vector<events::pending_event> batch;
  batch.push_back(depth("acme", "sales"));
  batch.push_back(depth("globex", "sales"));
  batch.push_back(depth("acme", "sales"));
  batch.push_back(depth("globex", "support"));
  batch.push_back(depth("globex", "sales"));
  auto stored = log.append(std::move(batch), 1'000);
  REQUIRE(stored.ok());
  const auto& ids = stored.value();
  CHECK(acme_all.ids == std::vector<std::string>{ids[0]->id, ids[2]->id});
  CHECK(globex_all.ids == std::vector<std::string>{ids[1]->id, ids[3]->id, ids[4]->id});
  CHECK(globex_sales.ids == std::vector<std::string>{ids[1]->id, ids[4]->id});
  CHECK(acme_all.calls == 1);
  CHECK(globex_all.calls == 1);
  CHECK(globex_sales.calls == 1);
}

TEST_CASE("fan-out: a batch too large to group at once still reaches everyone whole and in order", "[hub]") {
  server_log::memory_log log("0123456789abcdef", {});
  hub h(log);
  // 100 holders of `>` and 700 events alternating between two topics: 70,000 deliveries, more
  // than the hub groups in one part.
  std::vector<recording_sink> sinks(100);
  const std::vector<std::string> all{">"};
  for (std::size_t i = 0; i < sinks.size(); ++i) h.subscribe("acme", i + 1, sinks[i], all, [](const server_log::log_bounds&) {});
  std::vector<events::pending_event> batch;
  for (int i = 0; i < 700; ++i) batch.push_back(depth("acme", i % 2 ? "sales" : "support"));
  auto stored = log.append(std::move(batch), 1'000);
  REQUIRE(stored.ok());
  std::vector<std::string> ids;
  for (const auto& event : stored.value()) ids.push_back(event->id);
  for (const auto& sink : sinks) {
    CHECK(sink.ids == ids);
    CHECK(sink.calls == 2);
  }
}

TEST_CASE("snapshot in the subscribe step: the latest event per topic up to the head, then only later events live, "
          "while other threads publish", "[hub]") {
  server_log::memory_log log("0123456789abcdef", {});
  hub h(log, 100);
  for (int i = 0; i < 50; ++i) append(log, depth("acme", "q" + std::to_string(i % 5)));
  append(log, depth("globex", "q0"));  // another tenant's: never in acme's snapshot

  std::atomic<bool> stop{false};
  std::vector<std::thread> publishers;
  for (int t = 0; t < 2; ++t)
    publishers.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) append(log, depth("acme", "q" + std::to_string((i + t) % 5)));
    });
  struct taken {
    recording_sink sink;
    std::vector<server_log::stored_event_ptr> snapshot;
    std::uint64_t head = 0;
  };
  std::vector<std::unique_ptr<taken>> subscribers;
  std::vector<std::string> all{"queue.*.depth-changed"};
  for (int s = 0; s < 20; ++s) {
    auto sub = std::make_unique<taken>();
    h.subscribe("acme", static_cast<hub::connection_id>(10 + s), sub->sink, all, [&](const server_log::log_bounds& bounds) {
      sub->head = bounds.head_seq;
      h.latest_in_step("acme", all, bounds, sub->snapshot);
    });
    subscribers.push_back(std::move(sub));
  }
  stop = true;
  for (auto& p : publishers) p.join();

  std::vector<server_log::stored_event_ptr> everything;
  log.read(0, log.bounds().head_seq, 1'000'000, everything);
  for (const auto& sub : subscribers) {
    std::map<std::string, std::uint64_t> latest;  // per topic, at or before the head
    std::vector<std::string> later;                // every acme event after the head, in order
    for (const auto& e : everything) {
      if (e->tenant != "acme") continue;
      if (e->seq <= sub->head) latest[e->topic] = e->seq;
      else later.push_back(e->id);
    }
    std::map<std::string, std::uint64_t> got;
    std::uint64_t previous = 0;
    for (const auto& e : sub->snapshot) {
      CHECK(e->tenant == "acme");
      CHECK(e->seq > previous);  // in seq order, each topic once
      previous = e->seq;
      got[e->topic] = e->seq;
    }
    CHECK(got == latest);
    CHECK(sub->sink.ids == later);  // no gap, no duplicate
  }
}
