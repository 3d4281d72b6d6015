// The readiness of every plain-TCP WebSocket connection, through one epoll set that a single
// Asio wait watches. Asio would keep a pending operation (~200 bytes) and a descriptor record
// (~170 bytes) for each idle connection; watched here, an idle connection costs only the
// kernel's epoll entry. Edge-triggered: a reader drains its socket until EAGAIN, and a writer
// that hit EAGAIN hears when the socket is writable again.
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <cstdint>
#include <functional>

namespace globemeet::server::net {

class readiness_poller {
 public:
  // Called on an io_context thread for each watched socket that became ready; `events` is
  // epoll's mask (EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLHUP, EPOLLERR).
  using ready_handler = std::function<void(std::uint64_t id, std::uint32_t events)>;

  // Throws std::system_error when the kernel gives no epoll set.
  readiness_poller(boost::asio::io_context& io, ready_handler on_ready);

  // Reports `fd`'s readiness as `id` until the descriptor is closed. False when the kernel
  // refused (the caller closes the connection).
  bool watch(int fd, std::uint64_t id) noexcept;

 private:
  void wait();
  void report_ready();

  boost::asio::posix::stream_descriptor epoll_;
  ready_handler on_ready_;
};

}  // namespace globemeet::server::net
