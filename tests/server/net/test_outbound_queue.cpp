#include <catch2/catch.hpp>

#include "outbound_queue.hpp"

namespace server_log = globemeet::server::log;

using namespace globemeet::server::net;
namespace wire = globemeet::server::wire;

namespace {

outbound_frame text(std::string payload, std::int64_t at_us, bool is_event = false) {
  if (!is_event) return outbound_frame::of_bytes(wire::opcode::text, payload, at_us);
  auto ev = std::make_shared<server_log::stored_event>();
  server_log::set_frame(*ev, payload);
  return outbound_frame::of_event(ev, at_us);
}

std::string_view payload_of(const outbound_frame& f) { return f.bytes().substr(2); }  // short frames: 2-byte header

}  // namespace

TEST_CASE("the first push starts the writer; later pushes join the pending batch", "[outbound_queue]") {
  outbound_queue q;
  CHECK(q.push(text("a", 1)).result == outbound_queue::push_result::start_writer);
  auto second = q.push(text("bb", 2));
  CHECK(second.result == outbound_queue::push_result::queued);
  CHECK(second.oldest_queued_at_us == 1);
  CHECK(second.queued_bytes == 2 + 1 + 2 + 2);
  std::vector<outbound_frame> batch;
  REQUIRE(q.take_batch(batch));
  REQUIRE(batch.size() == 2);  // everything pending goes in one gather write
  CHECK(payload_of(batch[0]) == "a");
  CHECK(q.queued_bytes() == 2 + 1 + 2 + 2);
  CHECK(q.push(text("c", 3)).result == outbound_queue::push_result::queued);  // writer still busy
  q.batch_written();
  REQUIRE(q.take_batch(batch));
  CHECK(batch.size() == 1);
  q.batch_written();
  CHECK_FALSE(q.take_batch(batch));  // idle now
  CHECK(q.push(text("d", 4)).result == outbound_queue::push_result::start_writer);
}

TEST_CASE("releasing spare capacity keeps whatever is pending, and the queue works after it", "[outbound_queue]") {
  outbound_queue q;
  q.push(text("a", 1));
  q.release_spare_capacity();  // something pending: nothing to release
  std::vector<outbound_frame> batch;
  REQUIRE(q.take_batch(batch));
  CHECK(payload_of(batch.at(0)) == "a");
  q.batch_written();
  q.release_spare_capacity();  // idle: the pending list's memory goes
  CHECK_FALSE(q.take_batch(batch));
  CHECK(q.push(text("b", 2)).result == outbound_queue::push_result::start_writer);
  REQUIRE(q.take_batch(batch));
  CHECK(payload_of(batch.at(0)) == "b");
}

TEST_CASE("an event is queued as the log's shared frame; a reply carries its own bytes", "[outbound_queue]") {
  auto ev = std::make_shared<server_log::stored_event>();
  server_log::set_frame(*ev, R"({"op":"event"})");
  const auto queued = outbound_frame::of_event(ev, 1);
  CHECK(queued.bytes().data() == ev->websocket_frame.data());  // not copied
  CHECK(queued.wire_size() == 2 + 14);
  CHECK_FALSE(queued.is_close());
  const auto close = outbound_frame::of_bytes(wire::opcode::close, std::string("\x03\xe8", 2), 1);
  CHECK(close.is_close());
  CHECK(close.bytes() == std::string("\x88\x02\x03\xe8", 4));
}

TEST_CASE("the lag is the age of the oldest unwritten frame, in flight or pending", "[outbound_queue]") {
  outbound_queue q;
  CHECK(q.oldest_age_us(100) == 0);
  q.push(text("a", 10));
  q.push(text("b", 20));
  CHECK(q.oldest_age_us(100) == 90);
  std::vector<outbound_frame> batch;
  q.take_batch(batch);
  q.push(text("c", 50));
  CHECK(q.oldest_age_us(100) == 90);  // the in-flight batch is still the oldest
  q.batch_written();
  CHECK(q.oldest_age_us(100) == 50);
}

TEST_CASE("close_with drops pending events (or keeps them) and refuses later pushes", "[outbound_queue]") {
  outbound_queue q;
  q.push(text("ev1", 1, true));
  q.push(text("ev2", 2, true));
  q.push(text("ctl", 3));
  std::vector<outbound_frame> batch;
  q.take_batch(batch);  // all three in flight
  q.push(text("ev3", 4, true));
  q.push(text("ev4", 5, true));
  bool start = true;
  std::vector<outbound_frame> final_frames;
  final_frames.push_back(text("overflow", 6));
  CHECK(q.close_with(std::move(final_frames), false, start) == 2);
  CHECK_FALSE(start);  // the writer is busy and will find the final frames
  CHECK(q.closed());
  CHECK(q.push(text("late", 7, true)).result == outbound_queue::push_result::closed);
  q.batch_written();
  REQUIRE(q.take_batch(batch));
  REQUIRE(batch.size() == 1);
  CHECK(payload_of(batch[0]) == "overflow");

  outbound_queue polite;
  polite.push(text("ev", 1, true));
  polite.take_batch(batch);
  polite.batch_written();
  polite.take_batch(batch);  // idle
  polite.push(text("pending", 2, true));
  std::vector<outbound_frame> closing;
  closing.push_back(text("close", 3));
  CHECK(polite.close_with(std::move(closing), true, start) == 0);
  REQUIRE(polite.take_batch(batch));
  CHECK(batch.size() == 2);
}

// ---- conflation of gauges (docs/protocol.md section 7.1) ---------------------------------------

namespace {

server_log::stored_event_ptr stored(std::uint64_t seq, std::string topic) {
  auto ev = std::make_shared<server_log::stored_event>();
  ev->seq = seq;
  ev->topic = std::move(topic);
  server_log::set_frame(*ev, "e" + std::to_string(seq));
  return ev;
}

outbound_queue::push_outcome push_one(outbound_queue& q, const server_log::stored_event_ptr& ev, std::int64_t at_us,
                                      bool live = true) {
  const std::span<const server_log::stored_event_ptr> run(&ev, 1);
  return q.push_events(std::span<const std::span<const server_log::stored_event_ptr>>(&run, 1), at_us, live);
}

std::vector<std::uint64_t> seqs_of(const std::vector<outbound_frame>& batch) {
  std::vector<std::uint64_t> seqs;
  for (const auto& f : batch) seqs.push_back(f.event ? f.event->seq : 0);
  return seqs;
}

}  // namespace

TEST_CASE("a conflating queue keeps the newest waiting event of a gauge topic, at the end", "[outbound_queue]") {
  outbound_queue q;
  q.conflate_gauges();
  const std::string depth = "queue.support.depth-changed", status = "agent.a1.status-changed";
  push_one(q, stored(1, depth), 10);
  push_one(q, stored(2, "session.support.created"), 20);  // not a gauge
  push_one(q, stored(3, status), 30);
  auto out = push_one(q, stored(4, depth), 40);
  CHECK(out.conflated == 1);
  CHECK(out.oldest_queued_at_us == 20);  // the lag after conflation: seq 1 is gone
  CHECK(out.queued_bytes == 3 * 4);      // three 2-byte frames of 2-byte payloads
  CHECK(push_one(q, stored(5, depth), 50).conflated == 1);
  CHECK(push_one(q, stored(6, "session.support.created"), 60).conflated == 0);
  std::vector<outbound_frame> batch;
  REQUIRE(q.take_batch(batch));
  CHECK(seqs_of(batch) == std::vector<std::uint64_t>{2, 3, 5, 6});  // ids still ascend
  // In flight: never conflated; the next one waits behind it.
  CHECK(push_one(q, stored(7, depth), 70).conflated == 0);
  CHECK(push_one(q, stored(8, depth), 80).conflated == 1);
  q.batch_written();
  REQUIRE(q.take_batch(batch));
  CHECK(seqs_of(batch) == std::vector<std::uint64_t>{8});
}

TEST_CASE("replayed events and queues that did not ask are never conflated", "[outbound_queue]") {
  const std::string depth = "queue.support.depth-changed";
  std::vector<outbound_frame> batch;
  outbound_queue plain;
  push_one(plain, stored(1, depth), 1);
  CHECK(push_one(plain, stored(2, depth), 2).conflated == 0);
  REQUIRE(plain.take_batch(batch));
  CHECK(seqs_of(batch) == std::vector<std::uint64_t>{1, 2});

  outbound_queue q;
  q.conflate_gauges();
  push_one(q, stored(1, depth), 1, false);                     // replayed
  CHECK(push_one(q, stored(2, depth), 2).conflated == 0);      // the replayed one stays
  CHECK(push_one(q, stored(3, depth), 3).conflated == 1);      // the live one goes
  q.push(text("snapshot frame", 4));                           // a reply or snapshot frame: its own bytes
  CHECK(push_one(q, stored(4, depth), 5).conflated == 1);
  REQUIRE(q.take_batch(batch));
  CHECK(seqs_of(batch) == std::vector<std::uint64_t>{1, 0, 4});
}
