// One WebSocket connection attempt and, once open, the connection itself: resolve, TCP connect
// (TCP_NODELAY), TLS with SNI and verification for wss://, the WebSocket handshake offering the
// subprotocol with Authorization and Last-Event-ID, then a read loop and a write queue.
//
// It makes no protocol decision: it reports what happened to its owner through three
// callbacks, and reports `closed` exactly once, after which it calls nothing. A refused
// handshake is reported with the close code the session expects (client_session.hpp).
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "endpoint.hpp"

namespace globemeet::detail {

struct connection_callbacks {
  std::function<void(std::uint64_t connection)> opened;
  std::function<void(std::uint64_t connection, std::string text)> frame;
  std::function<void(std::uint64_t connection, std::uint16_t code, std::string reason)> closed;
};

struct connection_request {
  std::uint64_t number = 0;
  endpoint where;
  std::string subprotocol;
  std::string authorization;  // header value, empty for none
  std::string last_event_id;  // header value, empty for none
};

// Close code for a handshake the server answered with an HTTP status instead of 101.
std::uint16_t close_code_for_http_status(unsigned status) noexcept;

class connection {
 public:
  virtual ~connection() = default;
  virtual void start() = 0;
  virtual void send(std::string text) = 0;
  // Closes with a close frame once open; before that, aborts the attempt.
  virtual void close(std::uint16_t code, std::string reason) = 0;
};

// `tls_context` null means ws://. The callbacks run on `ioc`'s thread.
std::shared_ptr<connection> make_connection(boost::asio::io_context& ioc, boost::asio::ssl::context* tls_context,
                                            connection_request request, connection_callbacks callbacks);

}  // namespace globemeet::detail
