#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "write_turn.hpp"

using namespace globemeet::server::net;

namespace {

// Records when it was asked to write, in one log shared with the other handlers of the test.
struct recording_writer {
  std::string name;
  std::vector<std::string>& log;
  std::function<void()> on_write;
  void write_batch() {
    log.push_back(name);
    if (on_write) on_write();
  }
};

}  // namespace

TEST_CASE("deferred writers write once, after the handlers already queued in this turn", "[write_turn]") {
  boost::asio::io_context ioc;
  std::vector<std::string> log;
  auto a = std::make_shared<recording_writer>(recording_writer{"a", log, {}});
  auto b = std::make_shared<recording_writer>(recording_writer{"b", log, {}});
  boost::asio::post(ioc, [&] {
    // A fan-out: both writers become busy; a request read in the same turn is already queued.
    write_turn<recording_writer>::defer(a, ioc.get_executor());
    write_turn<recording_writer>::defer(b, ioc.get_executor());
  });
  boost::asio::post(ioc, [&] { log.push_back("read"); });
  ioc.run();
  CHECK(log == std::vector<std::string>{"read", "a", "b"});
}

TEST_CASE("a writer deferred while the turn's writers run is written in the next turn", "[write_turn]") {
  boost::asio::io_context ioc;
  std::vector<std::string> log;
  auto a = std::make_shared<recording_writer>(recording_writer{"a", log, {}});
  int sends = 0;
  // After each send the writer waits for the next turn, as the session does, twice.
  a->on_write = [&] {
    if (++sends < 3) {
      boost::asio::post(ioc, [&] { log.push_back("other"); });
      write_turn<recording_writer>::defer(a, ioc.get_executor());
    }
  };
  write_turn<recording_writer>::defer(a, ioc.get_executor());
  ioc.run();
  CHECK(log == std::vector<std::string>{"a", "other", "a", "other", "a"});
}

TEST_CASE("a long turn is written in slices, and handlers queued meanwhile run between them", "[write_turn]") {
  boost::asio::io_context ioc;
  std::vector<std::string> log;
  std::vector<std::shared_ptr<recording_writer>> writers;
  const std::size_t count = write_turn<recording_writer>::slice + 1;
  for (std::size_t i = 0; i < count; ++i)
    writers.push_back(std::make_shared<recording_writer>(recording_writer{"w", log, {}}));
  writers.back()->name = "last";
  for (auto& w : writers) write_turn<recording_writer>::defer(w, ioc.get_executor());
  // A read that completed while the turn's writes were queued (a publisher's next batch).
  boost::asio::post(ioc, [&] { log.push_back("read"); });
  ioc.run();
  REQUIRE(log.size() == count + 1);
  CHECK(log[count - 2] == "w");
  CHECK(log[count - 1] == "read");  // between the first slice and the rest
  CHECK(log[count] == "last");
}
