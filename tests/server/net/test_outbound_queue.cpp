#include <catch2/catch.hpp>

#include "outbound_queue.hpp"

using namespace globemeet::server::net;
namespace wire = globemeet::server::wire;

namespace {

outbound_frame text(std::string payload, std::int64_t at_us, bool is_event = false) {
  outbound_frame f;
  auto shared = std::make_shared<const std::string>(std::move(payload));
  f.header = wire::header_for(shared->size(), wire::opcode::text);
  f.payload = shared;
  f.queued_at_us = at_us;
  if (is_event) {
    auto ev = std::make_shared<globemeet::server::events::stored_event>();
    ev->frame = shared;
    f.event = ev;
  }
  return f;
}

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
  CHECK(*batch[0].payload == "a");
  CHECK(q.queued_bytes() == 2 + 1 + 2 + 2);
  CHECK(q.push(text("c", 3)).result == outbound_queue::push_result::queued);  // writer still busy
  q.batch_written();
  REQUIRE(q.take_batch(batch));
  CHECK(batch.size() == 1);
  q.batch_written();
  CHECK_FALSE(q.take_batch(batch));  // idle now
  CHECK(q.push(text("d", 4)).result == outbound_queue::push_result::start_writer);
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
  CHECK(*batch[0].payload == "overflow");

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
