// One connection's byte stream, plain TCP or TLS 1.3, chosen at accept time. Sessions are
// written once against this type instead of being templates instantiated twice; until it is
// polled it models Asio's AsyncReadStream and AsyncWriteStream by forwarding to the active layer.
// Plain HTTP runs on Beast's tcp_stream for its timeouts; a plain WebSocket session, which keeps
// its own deadlines and is told of readiness by the readiness_poller, takes the descriptor out
// of Asio altogether (release_to_poller): no Beast timer state, no Asio operation or reactor
// record while idle.
// Included only by the .cpp files that do I/O (it pulls in Beast).
#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>
#include <variant>

namespace globemeet::server::net {

namespace asio = boost::asio;
namespace beast = boost::beast;

class byte_stream {
 public:
  using executor_type = beast::tcp_stream::executor_type;
  using tls_stream = beast::ssl_stream<beast::tcp_stream>;

  byte_stream(asio::ip::tcp::socket socket, asio::ssl::context* tls)
      : layers_(tls ? layers(std::in_place_type<tls_stream>, beast::tcp_stream(std::move(socket)), *tls)
                    : layers(std::in_place_type<beast::tcp_stream>, std::move(socket))) {}

  executor_type get_executor() noexcept {
    if (auto* polled = std::get_if<polled_socket>(&layers_)) return polled->executor;
    return tcp().get_executor();
  }
  bool is_tls() const noexcept { return std::holds_alternative<tls_stream>(layers_); }
  // Not after release_to_poller().
  beast::tcp_stream& tcp() noexcept {
    auto* tls = std::get_if<tls_stream>(&layers_);
    return tls ? tls->next_layer() : std::get<beast::tcp_stream>(layers_);
  }
  tls_stream& tls() noexcept { return std::get<tls_stream>(layers_); }

  // Plain TCP only: takes the descriptor out of Asio and makes it non-blocking; from now on the
  // owner reads and writes it itself when the readiness_poller says so. -1 on failure (the
  // stream is then closed).
  int release_to_poller() noexcept {
    auto& socket = std::get<beast::tcp_stream>(layers_).socket();
    executor_type executor = socket.get_executor();
    boost::system::error_code ec;
    const int fd = socket.release(ec);
    layers_.emplace<polled_socket>(ec ? -1 : fd, std::move(executor));
    if (fd >= 0 && !ec && ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) == 0) return fd;
    close();
    return -1;
  }
  // The descriptor after release_to_poller(), -1 once closed.
  int polled_fd() const noexcept { return std::get<polled_socket>(layers_).fd; }

  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (auto* tls = std::get_if<tls_stream>(&layers_)) return tls->async_read_some(buffers, std::forward<Handler>(handler));
    tcp().async_read_some(buffers, std::forward<Handler>(handler));
  }

  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (auto* tls = std::get_if<tls_stream>(&layers_)) return tls->async_write_some(buffers, std::forward<Handler>(handler));
    tcp().async_write_some(buffers, std::forward<Handler>(handler));
  }

  // Closes the socket at once. A TLS WebSocket sends close_notify first (tls().async_shutdown,
  // see websocket_session::shutdown_tls); this is the end of that, or of a failed connection.
  void close() noexcept {
    if (auto* polled = std::get_if<polled_socket>(&layers_)) return polled->close();
    boost::system::error_code ignored;
    tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    tcp().socket().close(ignored);
  }

 private:
  // A descriptor out of Asio's hands, and the executor its owner's handlers run on.
  struct polled_socket {
    int fd;
    executor_type executor;
    polled_socket(int descriptor, executor_type ex) : fd(descriptor), executor(std::move(ex)) {}
    polled_socket(polled_socket&& other) noexcept : fd(std::exchange(other.fd, -1)), executor(other.executor) {}
    polled_socket& operator=(polled_socket&&) = delete;
    ~polled_socket() { close(); }
    void close() noexcept {
      if (fd < 0) return;
      ::shutdown(fd, SHUT_RDWR);
      ::close(std::exchange(fd, -1));  // closing also takes it out of the poller's epoll set
    }
  };
  // One of: Beast's stream with timeouts (HTTP, then a plain WebSocket until it is polled),
  // TLS, or a polled plain WebSocket.
  using layers = std::variant<beast::tcp_stream, tls_stream, polled_socket>;
  layers layers_;
};

}  // namespace globemeet::server::net
