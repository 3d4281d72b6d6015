// Client-side resume bookkeeping: last id, duplicate suppression, epochs, reset.
#include <catch2/catch.hpp>

#include "globemeet/core/resume.hpp"

using globemeet::core::resume_state;
using verdict = resume_state::verdict;

TEST_CASE("a fresh state delivers the first event of any epoch and remembers it", "[resume]") {
  resume_state r;
  CHECK_FALSE(r.last().has_value());
  CHECK(r.accept("6f1c2a9e-1042") == verdict::deliver);
  CHECK(r.last() == std::optional<std::string>("6f1c2a9e-1042"));
}

TEST_CASE("ids at or before the last one in the same epoch are duplicates", "[resume]") {
  resume_state r;
  REQUIRE(r.accept("a-10") == verdict::deliver);
  CHECK(r.accept("a-10") == verdict::duplicate);
  CHECK(r.accept("a-9") == verdict::duplicate);
  CHECK(r.accept("a-1") == verdict::duplicate);
  CHECK(r.last() == std::optional<std::string>("a-10"));
}

TEST_CASE("gaps in seq are not losses: any later id is delivered", "[resume]") {
  resume_state r;
  REQUIRE(r.accept("a-10") == verdict::deliver);
  CHECK(r.accept("a-11") == verdict::deliver);
  CHECK(r.accept("a-500") == verdict::deliver);
  CHECK(r.accept("a-499") == verdict::duplicate);
  CHECK(r.last() == std::optional<std::string>("a-500"));
}

TEST_CASE("seq is compared as a number, not as text", "[resume]") {
  resume_state r;
  REQUIRE(r.accept("a-9") == verdict::deliver);
  CHECK(r.accept("a-10") == verdict::deliver);
  CHECK(r.accept("a-9") == verdict::duplicate);
}

TEST_CASE("an id from another epoch without a reset is reported and does not move the position", "[resume]") {
  resume_state r;
  REQUIRE(r.accept("a-10") == verdict::deliver);
  CHECK(r.accept("b-1") == verdict::epoch_changed);
  CHECK(r.accept("b-11") == verdict::epoch_changed);
  CHECK(r.last() == std::optional<std::string>("a-10"));
  CHECK(r.accept("a-11") == verdict::deliver);
}

TEST_CASE("text that is not an event id is refused without changing the position", "[resume]") {
  resume_state r;
  REQUIRE(r.accept("a-10") == verdict::deliver);
  for (const char* bad : {"", "a", "a-", "-1", "a-0", "A-1", "a-01", "a-1x", "g-1", "a-9007199254740992"})
    CHECK(r.accept(bad) == verdict::invalid_id);
  CHECK(r.last() == std::optional<std::string>("a-10"));
}

TEST_CASE("reset_to takes the server's position as the new last id, in any epoch", "[resume]") {
  resume_state r;
  REQUIRE(r.accept("a-10") == verdict::deliver);

  SECTION("an earlier position of the same epoch (retention_exceeded keeps the epoch)") {
    r.reset_to(std::string("a-4"));
    CHECK(r.last() == std::optional<std::string>("a-4"));
    CHECK(r.accept("a-5") == verdict::deliver);
  }
  SECTION("a position in a new epoch (epoch_changed)") {
    r.reset_to(std::string("b-3"));
    CHECK(r.last() == std::optional<std::string>("b-3"));
    CHECK(r.accept("b-3") == verdict::duplicate);
    CHECK(r.accept("b-4") == verdict::deliver);
    CHECK(r.accept("a-11") == verdict::epoch_changed);
  }
  SECTION("no position (a server before `{epoch}-0`): the next event of any epoch is delivered") {
    r.reset_to(std::nullopt);
    CHECK_FALSE(r.last().has_value());
    CHECK(r.accept("c-1") == verdict::deliver);
  }
  SECTION("a position that is not an id is forgotten rather than trusted") {
    r.reset_to(std::string("not-an-id"));
    CHECK_FALSE(r.last().has_value());
    CHECK(r.accept("b-1") == verdict::deliver);
  }
}

TEST_CASE("`{epoch}-0` is a position before every event of its epoch, never an event", "[resume]") {
  resume_state r;
  REQUIRE(r.set_last("a-0"));
  CHECK(r.last() == std::optional<std::string>("a-0"));
  CHECK(r.accept("a-0") == verdict::invalid_id);
  CHECK(r.accept("b-1") == verdict::epoch_changed);
  CHECK(r.accept("a-1") == verdict::deliver);
  CHECK(r.last() == std::optional<std::string>("a-1"));

  // A reset to the start of a new epoch: its first event is new, and `b-0` is still no event.
  r.reset_to(std::string("b-0"));
  CHECK(r.last() == std::optional<std::string>("b-0"));
  CHECK(r.accept("a-2") == verdict::epoch_changed);
  CHECK(r.accept("b-0") == verdict::invalid_id);
  CHECK(r.accept("b-1") == verdict::deliver);
}

TEST_CASE("set_last restores a persisted position and refuses text that is not an id", "[resume]") {
  resume_state r;
  CHECK(r.set_last("ff-7"));
  CHECK(r.last() == std::optional<std::string>("ff-7"));
  CHECK(r.accept("ff-7") == verdict::duplicate);
  CHECK_FALSE(r.set_last("ff-"));
  CHECK(r.last() == std::optional<std::string>("ff-7"));
  r.clear();
  CHECK_FALSE(r.last().has_value());
}
