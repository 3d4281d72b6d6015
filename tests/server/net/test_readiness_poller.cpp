#include <catch2/catch.hpp>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include "readiness_poller.hpp"

using namespace globemeet::server::net;

namespace {

struct report {
  std::uint64_t id;
  std::uint32_t events;
};

// A connected pair of real stream sockets; `watched` is non-blocking, as a polled session's is.
struct socket_pair {
  int watched = -1, peer = -1;
  socket_pair() {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    watched = fds[0];
    peer = fds[1];
    REQUIRE(::fcntl(watched, F_SETFL, ::fcntl(watched, F_GETFL) | O_NONBLOCK) == 0);
  }
  ~socket_pair() {
    if (watched >= 0) ::close(watched);
    if (peer >= 0) ::close(peer);
  }
};

// Runs the loop until `reports` holds a report with `mask`, or two seconds passed.
bool run_until(boost::asio::io_context& io, const std::vector<report>& reports, std::uint32_t mask) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  auto seen = [&] {
    for (const auto& r : reports)
      if (r.events & mask) return true;
    return false;
  };
  while (!seen() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(std::chrono::milliseconds(20));
  }
  return seen();
}

}  // namespace

TEST_CASE("a watched socket is reported readable under its id, once per edge", "[readiness_poller]") {
  boost::asio::io_context io;
  std::vector<report> reports;
  readiness_poller poller(io, [&](std::uint64_t id, std::uint32_t events) { reports.push_back({id, events}); });
  socket_pair pair;
  REQUIRE(poller.watch(pair.watched, 42));

  reports.clear();  // a fresh socket is writable at once: that report is not under test here
  REQUIRE(::write(pair.peer, "hi", 2) == 2);
  REQUIRE(run_until(io, reports, EPOLLIN));
  CHECK(reports.back().id == 42);

  // Edge-triggered: nothing more until new data arrives, even though "hi" is still unread.
  reports.clear();
  io.restart();
  io.run_for(std::chrono::milliseconds(50));
  CHECK(reports.empty());
}

TEST_CASE("a socket that filled up is reported writable once the peer reads", "[readiness_poller]") {
  boost::asio::io_context io;
  std::vector<report> reports;
  readiness_poller poller(io, [&](std::uint64_t id, std::uint32_t events) { reports.push_back({id, events}); });
  socket_pair pair;
  REQUIRE(poller.watch(pair.watched, 7));
  REQUIRE(run_until(io, reports, EPOLLOUT));  // writable from the start

  std::vector<char> chunk(64 * 1024, 'x');
  while (::send(pair.watched, chunk.data(), chunk.size(), MSG_NOSIGNAL) > 0) {
  }
  REQUIRE(errno == EAGAIN);
  reports.clear();
  while (::read(pair.peer, chunk.data(), chunk.size()) == static_cast<ssize_t>(chunk.size())) {
  }
  REQUIRE(run_until(io, reports, EPOLLOUT));
  CHECK(reports.back().id == 7);
}

TEST_CASE("the peer closing is reported, and a closed descriptor leaves the set", "[readiness_poller]") {
  boost::asio::io_context io;
  std::vector<report> reports;
  readiness_poller poller(io, [&](std::uint64_t id, std::uint32_t events) { reports.push_back({id, events}); });
  socket_pair pair;
  REQUIRE(poller.watch(pair.watched, 9));
  reports.clear();
  ::close(pair.peer);
  pair.peer = -1;
  REQUIRE(run_until(io, reports, EPOLLRDHUP));
  CHECK(reports.back().id == 9);

  ::close(pair.watched);
  pair.watched = -1;
  reports.clear();
  io.restart();
  io.run_for(std::chrono::milliseconds(50));
  CHECK(reports.empty());
  CHECK_FALSE(poller.watch(12345, 1));  // not a descriptor: refused, not a crash
}
