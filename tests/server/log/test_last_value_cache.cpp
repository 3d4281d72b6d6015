// The last-value cache of snapshots (server/log/last_value_cache): the latest event per topic
// and tenant, bounded by the topic limit and by retention, and its snapshot frames.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "globemeet/server/log/last_value_cache.hpp"
#include "globemeet/server/log/memory_log.hpp"
#include "log_fixtures.hpp"

namespace events = globemeet::server::events;
namespace server_log = globemeet::server::log;
using events::testing::depth_event;
using events::testing::one;

namespace {

constexpr std::int64_t t0 = 1'795'802'531'204;

struct fixture {
  server_log::memory_log log{"0123abcd", {1'000'000, 3'600'000}};
  std::int64_t now = t0;

  server_log::stored_event_ptr publish(const std::string& tenant, const std::string& queue, int depth) {
    auto stored = log.append(one(depth_event(tenant, queue, depth)), now++);
    REQUIRE(stored.ok());
    return stored.value().at(0);
  }
};

std::vector<std::uint64_t> collect_seqs(const server_log::last_value_cache& cache, const std::string& tenant,
                                        std::uint64_t oldest = 1, std::uint64_t up_to = 1'000'000) {
  std::vector<server_log::stored_event_ptr> out;
  cache.collect(tenant, [](std::string_view) { return true; }, oldest, up_to, out);
  std::vector<std::uint64_t> seqs;
  for (const auto& e : out) seqs.push_back(e->seq);
  return seqs;
}

}  // namespace

TEST_CASE("the cache keeps the latest event of each topic, per tenant, in seq order", "[events][last_value_cache]") {
  fixture f;
  server_log::last_value_cache cache(100);
  std::vector<server_log::stored_event_ptr> batch{f.publish("acme", "a", 1), f.publish("acme", "b", 1),
                                                  f.publish("globex", "a", 9), f.publish("acme", "a", 2)};
  cache.update(batch);
  CHECK(collect_seqs(cache, "acme") == std::vector<std::uint64_t>{2, 4});  // b (seq 2), then a's newest (seq 4)
  CHECK(collect_seqs(cache, "globex") == std::vector<std::uint64_t>{3});   // another tenant's own
  CHECK(collect_seqs(cache, "initech").empty());
  CHECK(cache.topics() == 3);
  CHECK(cache.topics("acme") == 2);

  // An older event than the cached one changes nothing; `wanted`, oldest and up_to filter.
  std::vector<server_log::stored_event_ptr> stale{batch[0]};
  cache.update(stale);
  CHECK(collect_seqs(cache, "acme") == std::vector<std::uint64_t>{2, 4});
  CHECK(collect_seqs(cache, "acme", 3) == std::vector<std::uint64_t>{4});
  CHECK(collect_seqs(cache, "acme", 1, 3) == std::vector<std::uint64_t>{2});
  std::vector<server_log::stored_event_ptr> only_b;
  cache.collect("acme", [](std::string_view topic) { return topic == "queue.b.depth-changed"; }, 1, 100, only_b);
  REQUIRE(only_b.size() == 1);
  CHECK(only_b[0]->seq == 2);
}

TEST_CASE("past the topic limit the least recently updated topic is forgotten, and memory stays bounded",
          "[events][last_value_cache]") {
  fixture f;
  constexpr std::size_t limit = 50;
  server_log::last_value_cache cache(limit);
  std::size_t max_bytes = 0;
  std::size_t largest_frame = 0;
  for (int round = 0; round < 20; ++round) {
    for (int q = 0; q < 200; ++q) {
      auto event = f.publish("acme", "queue-" + std::to_string(q), round);
      largest_frame = std::max(largest_frame, event->websocket_frame.size());
      std::vector<server_log::stored_event_ptr> batch{event};
      cache.update(batch);
      f.publish("globex", "q", round);  // other tenants have limits of their own
      CHECK(cache.topics("acme") <= limit);
      max_bytes = std::max(max_bytes, cache.frame_bytes());
    }
  }
  CHECK(cache.topics("acme") == limit);
  CHECK(cache.topics() == limit);  // globex's events were never given to the cache
  CHECK(max_bytes <= limit * largest_frame);
  // The 50 topics kept are the 50 updated last: queue-150 .. queue-199 of the last round.
  std::vector<server_log::stored_event_ptr> kept;
  cache.collect("acme", [](std::string_view) { return true; }, 1, ~0ull, kept);
  REQUIRE(kept.size() == limit);
  CHECK(kept.front()->topic == "queue.queue-150.depth-changed");
  CHECK(kept.back()->topic == "queue.queue-199.depth-changed");
  std::size_t bytes = 0;
  for (const auto& e : kept) bytes += e->websocket_frame.size();
  CHECK(cache.frame_bytes() == bytes);  // the accounting matches what is held
}

TEST_CASE("entries whose event retention dropped are forgotten, and empty tenants go", "[events][last_value_cache]") {
  fixture f;
  server_log::last_value_cache cache(10);
  std::vector<server_log::stored_event_ptr> batch{f.publish("acme", "a", 1), f.publish("globex", "a", 1),
                                                  f.publish("acme", "b", 1)};
  cache.update(batch);
  CHECK(cache.forget_before(3) == 2);  // seqs 1 and 2
  CHECK(collect_seqs(cache, "acme") == std::vector<std::uint64_t>{3});
  CHECK(cache.tenants() == 1);
  CHECK(cache.forget_before(4) == 1);
  CHECK(cache.topics() == 0);
  CHECK(cache.frame_bytes() == 0);
  CHECK(cache.tenants() == 0);
}

TEST_CASE("a snapshot frame is the stored frame with \"snapshot\":true before data", "[events][last_value_cache]") {
  fixture f;
  auto event = f.publish("acme", "a", 7);
  const std::string frame = server_log::snapshot_frame(*event);
  // The header is rebuilt for the longer payload: parse what follows it.
  const std::size_t header = frame.size() - (event->frame().size() + std::string_view(R"(,"snapshot":true)").size());
  const std::string json = frame.substr(header);
  auto original = boost::json::parse(event->frame()).as_object();
  auto spliced = boost::json::parse(json).as_object();
  CHECK(spliced.at("snapshot") == true);
  spliced.erase("snapshot");
  CHECK(spliced == original);
  CHECK(json.find(R"("snapshot":true,"data":)") != std::string::npos);
  CHECK(static_cast<unsigned char>(frame[0]) == 0x81);  // FIN + text
}

TEST_CASE("a cache of no topics is refused", "[events][last_value_cache]") {
  CHECK_THROWS_AS(server_log::last_value_cache(0), std::invalid_argument);
}
