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

  executor_type get_executor() noexcept { return socket().get_executor(); }
  bool is_tls() const noexcept { return std::holds_alternative<tls_stream>(layers_); }
  // Not after release_timeouts() on a plain stream.
  beast::tcp_stream& tcp() noexcept {
    auto* tls = std::get_if<tls_stream>(&layers_);
    return tls ? tls->next_layer() : std::get<beast::tcp_stream>(layers_);
  }
  asio::ip::tcp::socket& socket() noexcept {
    auto* bare = std::get_if<asio::ip::tcp::socket>(&layers_);
    return bare ? *bare : tcp().socket();
  }
  tls_stream& tls() noexcept { return std::get<tls_stream>(layers_); }

  // Plain TCP: from now on the bare socket, without Beast's timer state.
  void release_timeouts() {
    if (auto* plain = std::get_if<beast::tcp_stream>(&layers_)) {
      asio::ip::tcp::socket bare = plain->release_socket();
      layers_.emplace<asio::ip::tcp::socket>(std::move(bare));
    }
  }

  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    std::visit([&](auto& layer) { layer.async_read_some(buffers, std::forward<Handler>(handler)); }, layers_);
  }

  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    std::visit([&](auto& layer) { layer.async_write_some(buffers, std::forward<Handler>(handler)); }, layers_);
  }

  // Closes the socket at once (no TLS close_notify: the WebSocket close handshake already
  // told the peer, and a slow peer must not hold the server).
  void close() noexcept {
    boost::system::error_code ignored;
    socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }

 private:
  // One of: Beast's stream with timeouts (HTTP), the bare socket (a plain WebSocket), TLS.
  using layers = std::variant<beast::tcp_stream, asio::ip::tcp::socket, tls_stream>;
  layers layers_;
};

}  // namespace globemeet::server::net
