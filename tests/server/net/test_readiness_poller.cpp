#include <catch2/catch.hpp>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <utility>
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

// A poller on its own loop, watching one end of a socket pair, recording what it reports.
struct watched_pair {
  boost::asio::io_context io;
  std::vector<report> reports;
  readiness_poller poller{io, [this](std::uint64_t id, std::uint32_t events) { reports.push_back({id, events}); }};
  socket_pair sockets;

  explicit watched_pair(std::uint64_t id) { REQUIRE(poller.watch(sockets.watched, id)); }

  // Runs the loop until a report with `mask` came, or two seconds passed.
  bool run_until(std::uint32_t mask) {
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

  // Runs the loop a little with `reports` cleared first: what it reports meanwhile.
  const std::vector<report>& reports_for_a_while() {
    reports.clear();
    io.restart();
    io.run_for(std::chrono::milliseconds(50));
    return reports;
  }
};

}  // namespace

TEST_CASE("a watched socket is reported readable under its id, once per edge", "[readiness_poller]") {
  watched_pair w(42);
  w.reports.clear();  // a fresh socket is writable at once: that report is not under test here
  REQUIRE(::write(w.sockets.peer, "hi", 2) == 2);
  REQUIRE(w.run_until(EPOLLIN));
  CHECK(w.reports.back().id == 42);
  // Edge-triggered: nothing more until new data arrives, even though "hi" is still unread.
  CHECK(w.reports_for_a_while().empty());
}

TEST_CASE("a socket that filled up is reported writable once the peer reads", "[readiness_poller]") {
  watched_pair w(7);
  REQUIRE(w.run_until(EPOLLOUT));  // writable from the start
  std::vector<char> chunk(64 * 1024, 'x');
  while (::send(w.sockets.watched, chunk.data(), chunk.size(), MSG_NOSIGNAL) > 0) {
  }
  REQUIRE(errno == EAGAIN);
  w.reports.clear();
  while (::read(w.sockets.peer, chunk.data(), chunk.size()) == static_cast<ssize_t>(chunk.size())) {
  }
  REQUIRE(w.run_until(EPOLLOUT));
  CHECK(w.reports.back().id == 7);
}

TEST_CASE("the peer closing is reported, and a closed descriptor leaves the set", "[readiness_poller]") {
  watched_pair w(9);
  w.reports.clear();
  ::close(std::exchange(w.sockets.peer, -1));
  REQUIRE(w.run_until(EPOLLRDHUP));
  CHECK(w.reports.back().id == 9);

  ::close(std::exchange(w.sockets.watched, -1));
  CHECK(w.reports_for_a_while().empty());
  CHECK_FALSE(w.poller.watch(12345, 1));  // not a descriptor: refused, not a crash
}
