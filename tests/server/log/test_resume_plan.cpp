#include <catch2/catch.hpp>

#include "globemeet/server/log/resume_plan.hpp"

namespace server_log = globemeet::server::log;
using server_log::resume_outcome;

namespace {

// Epoch "6f1c2a9e", events 101..250 retained (older ones trimmed).
server_log::log_bounds trimmed_log() { return {"6f1c2a9e", 101, 250, 150}; }

}  // namespace

TEST_CASE("resume from a retained id replays what follows it", "[events][resume]") {
  for (const std::uint64_t seq : {100u, 101u, 180u, 249u, 250u}) {
    INFO(seq);
    const auto plan = server_log::plan_resume("6f1c2a9e-" + std::to_string(seq), trimmed_log());
    CHECK(plan.outcome == resume_outcome::ok);
    CHECK(plan.after_seq == seq);
    CHECK(plan.up_to_seq == 250);
    CHECK_FALSE(plan.needs_reset());
    CHECK(plan.reset_reason().empty());
    CHECK(plan.position.empty());
  }
}

TEST_CASE("resume from `{epoch}-0`, before the epoch's first event", "[events][resume]") {
  SECTION("the first event is retained: replay everything, no reset") {
    const auto plan = server_log::plan_resume("6f1c2a9e-0", {"6f1c2a9e", 1, 3, 3});
    CHECK(plan.outcome == resume_outcome::ok);
    CHECK(plan.after_seq == 0);
    CHECK(plan.up_to_seq == 3);
    CHECK_FALSE(plan.needs_reset());
  }
  SECTION("an empty log: nothing to replay, live from seq 1") {
    const auto plan = server_log::plan_resume("6f1c2a9e-0", {"6f1c2a9e", 1, 0, 0});
    CHECK(plan.outcome == resume_outcome::ok);
    CHECK(plan.after_seq == 0);
    CHECK(plan.up_to_seq == 0);
  }
  SECTION("retention dropped seq 1: retention_exceeded, replay what is left") {
    const auto plan = server_log::plan_resume("6f1c2a9e-0", trimmed_log());
    CHECK(plan.outcome == resume_outcome::retention_exceeded);
    CHECK(plan.after_seq == 100);
    CHECK(plan.position == "6f1c2a9e-100");
  }
  SECTION("another epoch's start: epoch_changed") {
    const auto plan = server_log::plan_resume("aa11-0", {"6f1c2a9e", 1, 3, 3});
    CHECK(plan.outcome == resume_outcome::epoch_changed);
    CHECK(plan.position == "6f1c2a9e-0");
  }
}

TEST_CASE("resume from before the oldest retained event: retention_exceeded", "[events][resume]") {
  for (const std::uint64_t seq : {1u, 50u, 99u}) {
    INFO(seq);
    const auto plan = server_log::plan_resume("6f1c2a9e-" + std::to_string(seq), trimmed_log());
    CHECK(plan.outcome == resume_outcome::retention_exceeded);
    CHECK(plan.needs_reset());
    CHECK(plan.reset_reason() == "retention_exceeded");
    CHECK(plan.after_seq == 100);
    CHECK(plan.up_to_seq == 250);
    CHECK(plan.position == "6f1c2a9e-100");
  }
}

TEST_CASE("resume from beyond the head: future_id, live only", "[events][resume]") {
  const auto plan = server_log::plan_resume("6f1c2a9e-251", trimmed_log());
  CHECK(plan.outcome == resume_outcome::future_id);
  CHECK(plan.reset_reason() == "future_id");
  CHECK(plan.after_seq == 250);
  CHECK(plan.up_to_seq == 250);
  CHECK(plan.position == "6f1c2a9e-250");

  const auto on_empty = server_log::plan_resume("6f1c2a9e-3", {"6f1c2a9e", 1, 0, 0});
  CHECK(on_empty.outcome == resume_outcome::future_id);
  CHECK(on_empty.after_seq == 0);
  CHECK(on_empty.up_to_seq == 0);
  CHECK(on_empty.position == "6f1c2a9e-0");  // never null: the start of the epoch
}

TEST_CASE("resume from another epoch replays the whole retained log", "[events][resume]") {
  const auto plan = server_log::plan_resume("aa11-40", trimmed_log());
  CHECK(plan.outcome == resume_outcome::epoch_changed);
  CHECK(plan.reset_reason() == "epoch_changed");
  CHECK(plan.after_seq == 100);
  CHECK(plan.up_to_seq == 250);
  CHECK(plan.position == "6f1c2a9e-100");

  // A log that still holds its first event: nothing precedes the replay but the epoch's start.
  const auto from_start = server_log::plan_resume("aa11-900", {"6f1c2a9e", 1, 3, 3});
  CHECK(from_start.outcome == resume_outcome::epoch_changed);
  CHECK(from_start.after_seq == 0);
  CHECK(from_start.up_to_seq == 3);
  CHECK(from_start.position == "6f1c2a9e-0");

  const auto empty = server_log::plan_resume("aa11-900", {"6f1c2a9e", 1, 0, 0});
  CHECK(empty.outcome == resume_outcome::epoch_changed);
  CHECK(empty.after_seq == 0);
  CHECK(empty.up_to_seq == 0);
  CHECK(empty.position == "6f1c2a9e-0");
}

TEST_CASE("a log whose events all aged out still resumes from its head", "[events][resume]") {
  const server_log::log_bounds aged{"6f1c2a9e", 251, 250, 0};
  CHECK(server_log::plan_resume("6f1c2a9e-250", aged).outcome == resume_outcome::ok);
  const auto lost = server_log::plan_resume("6f1c2a9e-249", aged);
  CHECK(lost.outcome == resume_outcome::retention_exceeded);
  CHECK(lost.after_seq == 250);
  CHECK(lost.up_to_seq == 250);
  CHECK(lost.position == "6f1c2a9e-250");
}

TEST_CASE("a from that is not an event id is refused", "[events][resume]") {
  for (const char* from : {"", "garbage", "6f1c2a9e", "6f1c2a9e-", "-5", "6f1c2a9e-00", "6f1c2a9e-007",
                           "6F1C2A9E-5", "6f1c2a9e-5-6", "6f1c2a9e-9007199254740992", "0123456789abcdef0-1"}) {
    INFO(from);
    const auto plan = server_log::plan_resume(from, trimmed_log());
    CHECK(plan.outcome == resume_outcome::invalid_event_id);
    CHECK_FALSE(plan.needs_reset());
    CHECK(plan.reset_reason().empty());
  }
}
