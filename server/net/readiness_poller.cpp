#include "readiness_poller.hpp"

#include <sys/epoll.h>

#include <array>
#include <cerrno>
#include <system_error>

namespace globemeet::server::net {

namespace {
int new_epoll_set() {
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  return fd;
}
}  // namespace

readiness_poller::readiness_poller(boost::asio::io_context& io, ready_handler on_ready)
    : epoll_(io, new_epoll_set()), on_ready_(std::move(on_ready)) {
  wait();
}

bool readiness_poller::watch(int fd, std::uint64_t id) noexcept {
  epoll_event event{};
  event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  event.data.u64 = id;
  return ::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_ADD, fd, &event) == 0;
}

void readiness_poller::wait() {
  epoll_.async_wait(boost::asio::posix::descriptor_base::wait_read, [this](boost::system::error_code ec) {
    if (ec) return;  // the io_context is going away
    report_ready();
    wait();
  });
}

void readiness_poller::report_ready() {
  // Asio watches the set edge-triggered too: take everything that is ready, or a socket left
  // in the set's ready list might never be reported.
  std::array<epoll_event, 256> ready;
  for (;;) {
    const int n = ::epoll_wait(epoll_.native_handle(), ready.data(), static_cast<int>(ready.size()), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    for (int i = 0; i < n; ++i) on_ready_(ready[i].data.u64, ready[i].events);
    if (n < static_cast<int>(ready.size())) return;
  }
}

}  // namespace globemeet::server::net
