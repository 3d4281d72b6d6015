#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "globemeet/core/topic.hpp"
#include "globemeet/server/log/memory_log.hpp"
#include "globemeet/server/log/replay_cursor.hpp"
#include "log_fixtures.hpp"

namespace events = globemeet::server::events;
namespace server_log = globemeet::server::log;
using events::testing::depth_event;
using events::testing::one;

namespace {

constexpr std::int64_t t0 = 1'795'802'531'204;

std::vector<std::uint64_t> seqs_of(const std::vector<server_log::stored_event_ptr>& records) {
  std::vector<std::uint64_t> seqs;
  for (const auto& record : records) seqs.push_back(record->seq);
  return seqs;
}

void append_many(server_log::event_log& log, int count, int first_depth = 0) {
  for (int i = 0; i < count; ++i) {
    // Tenants alternate acme/globex; queues cycle support/sales/billing.
    static const char* queues[] = {"support", "sales", "billing"};
    const int n = first_depth + i;
    REQUIRE(log.append_sync(one(depth_event(n % 2 == 0 ? "acme" : "globex", queues[n % 3], n)), t0).ok());
  }
}

// Runs the cursor to the end, counting its steps.
std::vector<server_log::stored_event_ptr> drain(server_log::replay_cursor& cursor, std::size_t chunk, int& steps) {
  std::vector<server_log::stored_event_ptr> out;
  steps = 0;
  bool more = true;
  while (more) {
    more = cursor.next(out, chunk);
    ++steps;
  }
  return out;
}

}  // namespace

TEST_CASE("a replay walks one tenant's matching events in order, chunk by chunk", "[events][replay]") {
  server_log::memory_log log("6f1c2a9e", {});
  append_many(log, 30);  // seq s holds depth s-1: acme on odd seqs; queue support when (s-1) % 3 == 0

  const auto plan = log.plan_resume("6f1c2a9e-4");
  REQUIRE(plan.outcome == server_log::resume_outcome::ok);
  server_log::replay_cursor cursor(log, plan.after_seq, plan.up_to_seq, "acme", [](std::string_view topic) {
    return globemeet::core::topic::matches("queue.support.*", topic);
  });
  int steps = 0;
  const auto replayed = drain(cursor, 4, steps);

  std::vector<std::uint64_t> expected;
  for (std::uint64_t seq = 5; seq <= 30; ++seq) {
    if (seq % 2 == 1 && (seq - 1) % 3 == 0) expected.push_back(seq);
  }
  CHECK(seqs_of(replayed) == expected);
  for (const auto& event : replayed) CHECK(event->tenant == "acme");
  CHECK(steps == 7);  // 26 events in chunks of at most 4
  CHECK(cursor.done());
  CHECK_FALSE(cursor.lost_events());
  CHECK(cursor.position() == 30);
  std::vector<server_log::stored_event_ptr> none;
  CHECK_FALSE(cursor.next(none));
  CHECK(none.empty());
}

TEST_CASE("without a predicate every event of the tenant is replayed", "[events][replay]") {
  server_log::memory_log log("6f1c2a9e", {});
  append_many(log, 10);
  server_log::replay_cursor cursor(log, 0, 10, "globex", {});
  int steps = 0;
  CHECK(seqs_of(drain(cursor, 100, steps)) == std::vector<std::uint64_t>{2, 4, 6, 8, 10});
  CHECK(steps == 1);
}

TEST_CASE("events appended after planning are left to live delivery", "[events][replay]") {
  server_log::memory_log log("6f1c2a9e", {});
  append_many(log, 6);
  const auto plan = log.plan_resume("6f1c2a9e-2");
  append_many(log, 6, 6);
  server_log::replay_cursor cursor(log, plan.after_seq, plan.up_to_seq, "acme", {});
  int steps = 0;
  CHECK(seqs_of(drain(cursor, 2, steps)) == std::vector<std::uint64_t>{3, 5});
  CHECK(cursor.position() == 6);
}

TEST_CASE("an empty range is done at once", "[events][replay]") {
  server_log::memory_log log("6f1c2a9e", {});
  append_many(log, 3);
  server_log::replay_cursor cursor(log, 3, 3, "acme", {});
  CHECK(cursor.done());
  std::vector<server_log::stored_event_ptr> out;
  CHECK_FALSE(cursor.next(out));
  CHECK(out.empty());
}

TEST_CASE("a replay notices events that retention dropped before it reached them", "[events][replay]") {
  server_log::memory_log log("6f1c2a9e", {10, 3'600'000});
  append_many(log, 10);
  server_log::replay_cursor cursor(log, 0, 10, "acme", {});
  std::vector<server_log::stored_event_ptr> out;
  CHECK(cursor.next(out, 2));
  CHECK(seqs_of(out) == std::vector<std::uint64_t>{1});
  CHECK_FALSE(cursor.lost_events());

  append_many(log, 6, 10);  // retains 7..16: seqs 3..6 of the range are gone
  int steps = 0;
  const auto rest = drain(cursor, 2, steps);
  CHECK(cursor.lost_events());
  CHECK(seqs_of(rest) == std::vector<std::uint64_t>{7, 9});
}

TEST_CASE("a 100,000-event replay never takes more than a chunk at a time", "[events][replay]") {
  server_log::memory_log log("6f1c2a9e", {100'000, 3'600'000});
  for (int batch = 0; batch < 100; ++batch) {
    std::vector<events::pending_event> events;
    for (int i = 0; i < 1000; ++i) events.push_back(depth_event("acme", "support", batch * 1000 + i));
    REQUIRE(log.append_sync(std::move(events), t0).ok());
  }
  const auto plan = log.plan_resume("0badcafe-1");  // another epoch: replay everything retained
  REQUIRE(plan.outcome == server_log::resume_outcome::epoch_changed);
  REQUIRE(plan.position == "6f1c2a9e-0");

  server_log::replay_cursor cursor(log, plan.after_seq, plan.up_to_seq, "acme", {});
  std::vector<server_log::stored_event_ptr> step;
  std::uint64_t expected_seq = 1;
  std::size_t largest_step = 0;
  bool in_order = true;
  bool more = true;
  while (more) {
    step.clear();
    more = cursor.next(step, 512);
    largest_step = std::max(largest_step, step.size());
    for (const auto& event : step) in_order = in_order && event->seq == expected_seq++;
  }
  CHECK(in_order);
  CHECK(expected_seq == 100'001);
  CHECK(largest_step == 512);
  CHECK_FALSE(cursor.lost_events());
}

TEST_CASE("a byte bound sizes each read from the largest frame of the previous one", "[events][replay]") {
  server_log::memory_log log("6f1c2a9e", {});
  append_many(log, 40);  // frames of a few hundred bytes
  for (int i = 0; i < 30; ++i) {  // then frames of about 10 KB
    auto event = depth_event("acme", "support", 40 + i);
    event.data_json.insert(event.data_json.size() - 1, R"(,"pad":")" + std::string(10'000, 'x') + "\"");
    REQUIRE(log.append_sync(one(std::move(event)), t0).ok());
  }
  constexpr std::size_t max_bytes = 4096;
  server_log::replay_cursor cursor(log, 0, 70, "acme", {});
  std::vector<server_log::stored_event_ptr> replayed;
  std::vector<std::uint64_t> examined;  // per read
  std::size_t expected = server_log::replay_cursor::first_read_events;
  bool more = true;
  while (more) {
    const std::uint64_t before = cursor.position();
    more = cursor.next(replayed, 512, max_bytes);
    examined.push_back(cursor.position() - before);
    CHECK(examined.back() == std::min<std::uint64_t>(expected, 70 - before));
    std::vector<server_log::stored_event_ptr> read;
    log.read(before, cursor.position(), 512, read);
    std::size_t largest = 0;
    for (const auto& event : read) largest = std::max(largest, event->websocket_frame.size());
    expected = std::max<std::size_t>(max_bytes / largest, 1);
  }
  CHECK(examined.front() == 16);
  CHECK(examined.back() == 1);  // after a 10 KB frame: one event per read
  CHECK(examined.size() > 20);
  std::vector<std::uint64_t> acme;
  for (std::uint64_t seq = 1; seq <= 70; ++seq)
    if (seq % 2 == 1 || seq > 40) acme.push_back(seq);
  CHECK(seqs_of(replayed) == acme);
}
