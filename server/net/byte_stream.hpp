// One connection's byte stream, plain TCP or TLS 1.3, chosen at accept time. Sessions are
// written once against this type instead of being templates instantiated twice; it models
// Asio's AsyncReadStream and AsyncWriteStream by forwarding to the active layer.
// Plain HTTP runs on Beast's tcp_stream for its timeouts; a WebSocket session, which keeps its
// own deadlines, drops it for the bare socket (release_timeouts), saving ~0.5 KB per connection.
// Included only by the .cpp files that do I/O (it pulls in Beast).
#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <optional>
#include <utility>

namespace globemeet::server::net {

namespace asio = boost::asio;
namespace beast = boost::beast;

class byte_stream {
 public:
  using executor_type = beast::tcp_stream::executor_type;

  byte_stream(asio::ip::tcp::socket socket, asio::ssl::context* tls) {
    if (tls)
      tls_.emplace(beast::tcp_stream(std::move(socket)), *tls);
    else
      plain_.emplace(std::move(socket));
  }

  executor_type get_executor() noexcept { return socket().get_executor(); }
  bool is_tls() const noexcept { return tls_.has_value(); }
  // Not after release_timeouts() on a plain stream.
  beast::tcp_stream& tcp() noexcept { return tls_ ? tls_->next_layer() : *plain_; }
  asio::ip::tcp::socket& socket() noexcept { return bare_ ? *bare_ : tcp().socket(); }
  beast::ssl_stream<beast::tcp_stream>& tls() noexcept { return *tls_; }

  // Plain TCP: from now on the bare socket, without Beast's timer state.
  void release_timeouts() {
    if (plain_) {
      bare_.emplace(plain_->release_socket());
      plain_.reset();
    }
  }

  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (tls_)
      tls_->async_read_some(buffers, std::forward<Handler>(handler));
    else if (bare_)
      bare_->async_read_some(buffers, std::forward<Handler>(handler));
    else
      plain_->async_read_some(buffers, std::forward<Handler>(handler));
  }

  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (tls_)
      tls_->async_write_some(buffers, std::forward<Handler>(handler));
    else if (bare_)
      bare_->async_write_some(buffers, std::forward<Handler>(handler));
    else
      plain_->async_write_some(buffers, std::forward<Handler>(handler));
  }

  // Closes the socket at once (no TLS close_notify: the WebSocket close handshake already
  // told the peer, and a slow peer must not hold the server).
  void close() noexcept {
    boost::system::error_code ignored;
    socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }

 private:
  std::optional<beast::tcp_stream> plain_;
  std::optional<asio::ip::tcp::socket> bare_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
};

}  // namespace globemeet::server::net
