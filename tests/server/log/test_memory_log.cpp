#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <stdexcept>
#include <thread>
#include <variant>

#include "globemeet/core/codec.hpp"
#include "globemeet/server/log/memory_log.hpp"
#include "log_fixtures.hpp"

namespace events = globemeet::server::events;
namespace server_log = globemeet::server::log;
namespace core = globemeet::core;
using events::testing::depth_event;
using events::testing::one;

namespace {

constexpr std::int64_t t0 = 1'795'802'531'204;  // 2026-11-27T18:02:11.204Z

std::vector<std::uint64_t> seqs_of(const std::vector<server_log::stored_event_ptr>& records) {
  std::vector<std::uint64_t> seqs;
  for (const auto& record : records) seqs.push_back(record->seq);
  return seqs;
}

std::vector<std::uint64_t> retained(const server_log::event_log& log) {
  std::vector<server_log::stored_event_ptr> out;
  log.read(0, log.bounds().head_seq, 1'000'000, out);
  return seqs_of(out);
}

std::vector<server_log::stored_event_ptr> append_ok(server_log::event_log& log, std::vector<events::pending_event> batch,
                                                std::int64_t now_ms) {
  auto stored = log.append_sync(std::move(batch), now_ms);
  REQUIRE(stored.ok());
  return std::move(stored).value();
}

}  // namespace

TEST_CASE("the epoch is 8 to 16 lowercase hex digits and retention bounds are positive", "[events][log]") {
  CHECK(server_log::is_valid_log_epoch("6f1c2a9e"));
  CHECK(server_log::is_valid_log_epoch("0123456789abcdef"));
  for (const char* epoch : {"", "6f1c2a9", "0123456789abcdef0", "6F1C2A9E", "6f1c2a9g", "6f1c-2a9e"}) {
    INFO(epoch);
    CHECK_FALSE(server_log::is_valid_log_epoch(epoch));
    CHECK_THROWS_AS(server_log::memory_log(epoch, {}), std::invalid_argument);
  }
  CHECK_THROWS_AS(server_log::memory_log("6f1c2a9e", {0, 1000}), std::invalid_argument);
  CHECK_THROWS_AS(server_log::memory_log("6f1c2a9e", {10, 0}), std::invalid_argument);
  const server_log::memory_log log("6f1c2a9e", {10, 1000});
  CHECK(log.epoch() == "6f1c2a9e");
  CHECK(log.policy().max_events == 10);
}

TEST_CASE("appends get consecutive ids from 1 and the server's time", "[events][log]") {
  server_log::memory_log log("6f1c2a9e", {});
  CHECK(log.head() == core::event_id{"6f1c2a9e", 0});  // the position before the first event
  CHECK(log.bounds().oldest_seq == 1);
  CHECK(log.bounds().size == 0);

  std::vector<events::pending_event> batch{depth_event("acme", "support", 1), depth_event("globex", "sales", 2)};
  const auto first = append_ok(log, std::move(batch), t0);
  REQUIRE(first.size() == 2);
  CHECK(first[0]->seq == 1);
  CHECK(first[0]->id == "6f1c2a9e-1");
  CHECK(first[0]->tenant == "acme");
  CHECK(first[0]->topic == "queue.support.depth-changed");
  CHECK(first[0]->time_ms == t0);
  CHECK(first[1]->id == "6f1c2a9e-2");
  CHECK(first[1]->tenant == "globex");

  const auto second = append_ok(log, one(depth_event("acme", "support", 3)), t0 + 5);
  CHECK(second[0]->id == "6f1c2a9e-3");
  CHECK(log.head() == core::event_id{"6f1c2a9e", 3});
  const auto bounds = log.bounds();
  CHECK(bounds.epoch == "6f1c2a9e");
  CHECK(bounds.oldest_seq == 1);
  CHECK(bounds.head_seq == 3);
  CHECK(bounds.size == 3);
  CHECK(retained(log) == std::vector<std::uint64_t>{1, 2, 3});

  CHECK(append_ok(log, {}, t0 + 6).empty());
  CHECK(log.bounds().head_seq == 3);
}

TEST_CASE("the frame is serialized once and decodes back to the envelope", "[events][log]") {
  server_log::memory_log log("6f1c2a9e", {});
  const auto stored = append_ok(log, one(depth_event("acme", "support", 7)), t0);
  const std::string_view frame = stored.front()->frame();
  // The stored bytes are the whole WebSocket text frame: FIN + text, then a 16-bit length.
  const std::string& wire_bytes = stored.front()->websocket_frame;
  REQUIRE(wire_bytes.size() == frame.size() + 4);
  CHECK(static_cast<unsigned char>(wire_bytes[0]) == 0x81);
  CHECK(static_cast<unsigned char>(wire_bytes[1]) == 126);
  CHECK(static_cast<std::size_t>((static_cast<unsigned char>(wire_bytes[2]) << 8) | static_cast<unsigned char>(wire_bytes[3])) == frame.size());

  auto decoded = core::codec::decode_server(frame);
  REQUIRE(decoded.ok());
  REQUIRE(std::holds_alternative<core::event_frame>(decoded.value()));
  const core::event& event = std::get<core::event_frame>(decoded.value()).ev;
  CHECK(event.id == "6f1c2a9e-1");
  CHECK(event.source == "/tenants/acme/queues/support");
  CHECK(event.type == "queue.depth-changed");
  CHECK(event.subject == "support");
  CHECK(event.time == "2026-11-27T18:02:11.204Z");
  CHECK(event.topic == "queue.support.depth-changed");
  CHECK(event.tenant == "acme");
  CHECK(boost::json::parse(event.data_json) ==
        boost::json::parse(R"({"queue_id":"support","depth":7,"longest_wait_seconds":0})"));

  const auto envelope = boost::json::parse(frame).as_object();
  CHECK(envelope.at("op") == "event");
  CHECK(envelope.at("specversion") == "1.0");
  CHECK(envelope.at("datacontenttype") == "application/json");

  // Replay hands out the very same bytes that fan-out got.
  std::vector<server_log::stored_event_ptr> replayed;
  log.read(0, 1, 10, replayed);
  REQUIRE(replayed.size() == 1);
  CHECK(replayed.front()->frame().data() == frame.data());
}

TEST_CASE("times never go back", "[events][log]") {
  server_log::memory_log log("6f1c2a9e", {});
  append_ok(log, one(depth_event("acme", "support", 1)), t0);
  const auto earlier = append_ok(log, one(depth_event("acme", "support", 2)), t0 - 1000);
  CHECK(earlier.front()->time_ms == t0);
  auto decoded = core::codec::decode_server(earlier.front()->frame());
  REQUIRE(decoded.ok());
  CHECK(std::get<core::event_frame>(decoded.value()).ev.time == "2026-11-27T18:02:11.204Z");
}

TEST_CASE("retention by count keeps the newest events", "[events][log]") {
  server_log::memory_log log("6f1c2a9e", {3, 3'600'000});
  for (int i = 1; i <= 5; ++i) append_ok(log, one(depth_event("acme", "support", i)), t0 + i);
  CHECK(retained(log) == std::vector<std::uint64_t>{3, 4, 5});
  CHECK(log.bounds().oldest_seq == 3);
  CHECK(log.bounds().size == 3);

  // A batch larger than the bound is stored and returned whole; only its tail is retained.
  std::vector<events::pending_event> batch;
  for (int i = 0; i < 5; ++i) batch.push_back(depth_event("acme", "support", i));
  const auto stored = append_ok(log, std::move(batch), t0 + 10);
  CHECK(seqs_of(stored) == std::vector<std::uint64_t>{6, 7, 8, 9, 10});
  CHECK(retained(log) == std::vector<std::uint64_t>{8, 9, 10});
  CHECK(log.head() == core::event_id{"6f1c2a9e", 10});
}

TEST_CASE("retention by age drops old events on append and on trim", "[events][log]") {
  server_log::memory_log log("6f1c2a9e", {1000, 1000});
  append_ok(log, one(depth_event("acme", "support", 1)), t0);
  append_ok(log, one(depth_event("acme", "support", 2)), t0 + 500);
  append_ok(log, one(depth_event("acme", "support", 3)), t0 + 1000);
  CHECK(retained(log) == std::vector<std::uint64_t>{1, 2, 3});  // exactly max_age old is kept
  append_ok(log, one(depth_event("acme", "support", 4)), t0 + 1001);
  CHECK(retained(log) == std::vector<std::uint64_t>{2, 3, 4});

  CHECK(log.trim(t0 + 1500) == 0);
  CHECK(log.trim(t0 + 1501) == 1);
  CHECK(retained(log) == std::vector<std::uint64_t>{3, 4});
  CHECK(log.trim(t0 + 10'000) == 2);
  CHECK(retained(log).empty());

  // Emptied by age, the log still knows its head, so clients can resume from it.
  const auto bounds = log.bounds();
  CHECK(bounds.size == 0);
  CHECK(bounds.head_seq == 4);
  CHECK(bounds.oldest_seq == 5);
  CHECK(log.head() == core::event_id{"6f1c2a9e", 4});
  CHECK(log.plan_resume("6f1c2a9e-4").outcome == server_log::resume_outcome::ok);
  CHECK(log.plan_resume("6f1c2a9e-3").outcome == server_log::resume_outcome::retention_exceeded);

  const auto next = append_ok(log, one(depth_event("acme", "support", 5)), t0 + 10'000);
  CHECK(next.front()->id == "6f1c2a9e-5");
}

TEST_CASE("reads are bounded chunks of (after, up_to] in order", "[events][log]") {
  server_log::memory_log log("6f1c2a9e", {});
  for (int i = 1; i <= 10; ++i) append_ok(log, one(depth_event("acme", "support", i)), t0);

  std::vector<server_log::stored_event_ptr> out;
  auto status = log.read(0, 10, 3, out);
  CHECK(status.copied == 3);
  CHECK(status.oldest_seq == 1);
  CHECK(seqs_of(out) == std::vector<std::uint64_t>{1, 2, 3});

  status = log.read(3, 10, 3, out);  // appends to what `out` holds
  CHECK(status.copied == 3);
  CHECK(seqs_of(out) == std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6});

  out.clear();
  status = log.read(6, 8, 100, out);
  CHECK(status.copied == 2);
  CHECK(seqs_of(out) == std::vector<std::uint64_t>{7, 8});

  out.clear();
  CHECK(log.read(10, 10, 100, out).copied == 0);
  CHECK(log.read(4, 20, 0, out).copied == 0);
  CHECK(out.empty());
}

TEST_CASE("the log plans resumes against its own bounds", "[events][log]") {
  server_log::memory_log log("6f1c2a9e", {5, 3'600'000});
  CHECK(log.plan_resume("6f1c2a9e-1").outcome == server_log::resume_outcome::future_id);
  CHECK(log.plan_resume("6f1c2a9e-0").outcome == server_log::resume_outcome::ok);
  append_ok(log, one(depth_event("acme", "support", 1)), t0);
  CHECK(log.plan_resume("6f1c2a9e-0").outcome == server_log::resume_outcome::ok);  // replays seq 1
  for (int i = 2; i <= 8; ++i) append_ok(log, one(depth_event("acme", "support", i)), t0);  // keeps 4..8
  CHECK(log.plan_resume("6f1c2a9e-0").outcome == server_log::resume_outcome::retention_exceeded);

  auto plan = log.plan_resume("6f1c2a9e-5");
  CHECK(plan.outcome == server_log::resume_outcome::ok);
  CHECK(plan.after_seq == 5);
  CHECK(plan.up_to_seq == 8);
  CHECK(log.plan_resume("6f1c2a9e-3").outcome == server_log::resume_outcome::ok);
  plan = log.plan_resume("6f1c2a9e-2");
  CHECK(plan.outcome == server_log::resume_outcome::retention_exceeded);
  CHECK(plan.position == "6f1c2a9e-3");
  plan = log.plan_resume("6f1c2a9e-9");
  CHECK(plan.outcome == server_log::resume_outcome::future_id);
  CHECK(plan.position == "6f1c2a9e-8");
  plan = log.plan_resume("0badcafe-5");
  CHECK(plan.outcome == server_log::resume_outcome::epoch_changed);
  CHECK(plan.after_seq == 3);
  CHECK(log.plan_resume("not-an-id").outcome == server_log::resume_outcome::invalid_event_id);
}

TEST_CASE("the head passes a batch only after its listener call", "[events][log]") {
  // A subscriber that takes bounds() under the fan-out's lock must find every event up to the
  // head already fanned out, and every later one still to come.
  server_log::memory_log log("6f1c2a9e", {});
  std::vector<std::uint64_t> head_during;
  log.set_listener([&](std::span<const server_log::stored_event_ptr>) { head_during.push_back(log.bounds().head_seq); });
  append_ok(log, {depth_event("acme", "a", 1), depth_event("acme", "b", 2)}, t0);
  CHECK(log.bounds().head_seq == 2);
  append_ok(log, one(depth_event("acme", "c", 3)), t0);
  CHECK(log.bounds().head_seq == 3);
  CHECK(head_during == std::vector<std::uint64_t>{0, 2});
}

TEST_CASE("the listener sees every batch once, in order", "[events][log]") {
  server_log::memory_log log("6f1c2a9e", {});
  std::vector<std::vector<std::uint64_t>> seen;
  log.set_listener([&](std::span<const server_log::stored_event_ptr> batch) {
    std::vector<std::uint64_t> seqs;
    for (const auto& record : batch) seqs.push_back(record->seq);
    seen.push_back(seqs);
  });
  append_ok(log, {depth_event("acme", "a", 1), depth_event("acme", "b", 2)}, t0);
  append_ok(log, {}, t0);
  append_ok(log, one(depth_event("acme", "c", 3)), t0);
  CHECK(seen == std::vector<std::vector<std::uint64_t>>{{1, 2}, {3}});

  log.set_listener({});
  append_ok(log, one(depth_event("acme", "d", 4)), t0);
  CHECK(seen.size() == 2);
}

TEST_CASE("concurrent appends from two threads lose nothing and stay ordered", "[events][log]") {
  constexpr int batches_per_thread = 2000;
  server_log::memory_log log("6f1c2a9e", {1'000'000, 3'600'000});
  std::vector<std::uint64_t> delivered;  // the listener is never called concurrently
  log.set_listener([&](std::span<const server_log::stored_event_ptr> batch) {
    for (const auto& record : batch) delivered.push_back(record->seq);
  });

  auto publisher = [&](const std::string& tenant, std::vector<std::uint64_t>& got, bool& ordered) {
    ordered = true;
    for (int i = 0; i < batches_per_thread; ++i) {
      std::vector<events::pending_event> batch;
      for (int k = 0; k <= i % 3; ++k) batch.push_back(depth_event(tenant, "support", i));
      auto stored = log.append(std::move(batch), t0 + i);
      if (!stored.ok()) {
        ordered = false;
        return;
      }
      for (const auto& record : stored.value()) {
        if (!got.empty() && record->seq <= got.back()) ordered = false;
        got.push_back(record->seq);
      }
    }
  };
  std::vector<std::uint64_t> got_a, got_b;
  bool ordered_a = false, ordered_b = false;
  std::thread a(publisher, "acme", std::ref(got_a), std::ref(ordered_a));
  std::thread b(publisher, "globex", std::ref(got_b), std::ref(ordered_b));
  a.join();
  b.join();

  CHECK(ordered_a);
  CHECK(ordered_b);
  const std::size_t total = got_a.size() + got_b.size();
  CHECK(total == 2 * (batches_per_thread / 3 * 6 + 3));  // 1+2+3 events per three batches
  std::vector<std::uint64_t> all(got_a);
  all.insert(all.end(), got_b.begin(), got_b.end());
  std::sort(all.begin(), all.end());
  std::vector<std::uint64_t> expected(total);
  for (std::size_t i = 0; i < total; ++i) expected[i] = i + 1;
  CHECK(all == expected);             // every id 1..N exactly once
  CHECK(retained(log) == expected);   // the log holds them in order
  CHECK(delivered == expected);       // and fan-out saw them in order
  CHECK(log.bounds().head_seq == total);

  // Each stored frame carries its own id.
  std::vector<server_log::stored_event_ptr> out;
  log.read(0, total, total, out);
  for (const auto& record : out) {
    auto decoded = core::codec::decode_server(record->frame());
    REQUIRE(decoded.ok());
    const auto& event = std::get<core::event_frame>(decoded.value()).ev;
    REQUIRE(event.id == record->id);
    REQUIRE(event.tenant == record->tenant);
  }
}
