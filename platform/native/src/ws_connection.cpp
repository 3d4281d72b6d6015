#include "ws_connection.hpp"

#include <chrono>
#include <type_traits>
#include <utility>

#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/version.hpp>

#include "tls_context.hpp"

namespace globemeet::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr std::uint16_t close_abnormal = 1006;
constexpr std::uint16_t close_protocol_error = 1002;
// Server events may be large (a publish body is up to 1 MiB); the limit only guards memory.
constexpr std::size_t max_inbound_message = 16 * 1024 * 1024;

// The reason of a refused handshake: the status and the server's JSON error body, kept short.
std::string refusal_reason(const websocket::response_type& res) {
  std::string reason = "HTTP " + std::to_string(res.result_int());
  if (!res.body().empty()) reason += ": " + res.body().substr(0, 300);
  return reason;
}

template <class NextLayer>
class ws_connection final : public connection, public std::enable_shared_from_this<ws_connection<NextLayer>> {
  static constexpr bool is_tls = !std::is_same_v<NextLayer, beast::tcp_stream>;

 public:
  ws_connection(asio::io_context& ioc, ssl::context* tls, connection_request request, connection_callbacks callbacks)
      : resolver_(ioc), ws_(make_stream(ioc, tls)), request_(std::move(request)), callbacks_(std::move(callbacks)) {}

  void start() override {
    resolver_.async_resolve(request_.where.host, request_.where.port,
                            [self = this->shared_from_this()](error_code ec, tcp::resolver::results_type results) {
                              self->on_resolve(ec, std::move(results));
                            });
  }

  void send(std::string text) override {
    if (!open_ || finished_) return;
    outbox_.push_back(std::move(text));
    if (outbox_.size() == 1) write_next();
  }

  void close(std::uint16_t code, std::string reason) override {
    if (closing_ || finished_) return;
    closing_ = true;
    if (!open_) {
      // The attempt is abandoned: whatever step is in flight fails with operation_aborted.
      resolver_.cancel();
      abort_socket();
      return;
    }
    // Close reasons are limited to 123 bytes by RFC 6455.
    if (reason.size() > 123) reason.resize(123);
    websocket::close_reason why;
    why.code = code;
    why.reason = reason.c_str();
    ws_.async_close(why, [self = this->shared_from_this()](error_code) {
      // The pending read ends with the server's close frame or with the socket going away.
      self->abort_socket();
    });
  }

 private:
  static websocket::stream<NextLayer> make_stream(asio::io_context& ioc, ssl::context* tls) {
    if constexpr (is_tls) return websocket::stream<NextLayer>(ioc, *tls);
    else return websocket::stream<NextLayer>(ioc);
  }

  beast::tcp_stream& tcp_layer() { return beast::get_lowest_layer(ws_); }

  void abort_socket() {
    error_code ignored;
    tcp_layer().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp_layer().socket().close(ignored);
  }

  void on_resolve(error_code ec, tcp::resolver::results_type results) {
    if (ec) return finish(close_abnormal, "cannot resolve " + request_.where.host + ": " + ec.message());
    tcp_layer().async_connect(results, [self = this->shared_from_this()](error_code e, const tcp::endpoint&) {
      self->on_connect(e);
    });
  }

  void on_connect(error_code ec) {
    if (ec) return finish(close_abnormal, "cannot connect to " + request_.where.host_header() + ": " + ec.message());
    error_code ignored;
    tcp_layer().socket().set_option(tcp::no_delay(true), ignored);
    if constexpr (is_tls) {
      std::string error;
      if (!prepare_tls_stream(ws_.next_layer(), request_.where.host, request_.where.host_is_ip(), error))
        return finish(close_abnormal, error);
      ws_.next_layer().async_handshake(ssl::stream_base::client, [self = this->shared_from_this()](error_code e) {
        if (e) return self->finish(close_abnormal, describe_tls_error(e));
        self->websocket_handshake();
      });
    } else {
      websocket_handshake();
    }
  }

  void websocket_handshake() {
    // The session's handshake timer bounds the whole attempt; Beast's own timeout bounds the
    // close handshake. No idle timeout: the session's application pings watch liveness.
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(10);
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.read_message_max(max_inbound_message);
    ws_.set_option(websocket::stream_base::decorator([r = request_](websocket::request_type& req) {
      req.set(beast::http::field::user_agent, "globemeet-native/0.1 " BOOST_BEAST_VERSION_STRING);
      req.set(beast::http::field::sec_websocket_protocol, r.subprotocol);
      if (!r.authorization.empty()) req.set(beast::http::field::authorization, r.authorization);
      if (!r.last_event_id.empty()) req.set("Last-Event-ID", r.last_event_id);
    }));
    ws_.async_handshake(response_, request_.where.host_header(), request_.where.target,
                        [self = this->shared_from_this()](error_code ec) { self->on_handshake(ec); });
  }

  void on_handshake(error_code ec) {
    if (ec == websocket::error::upgrade_declined)
      return finish(close_code_for_http_status(response_.result_int()), refusal_reason(response_));
    if (ec) {
      if (ec.category() == asio::error::get_ssl_category()) return finish(close_abnormal, describe_tls_error(ec));
      return finish(close_abnormal, "websocket handshake failed: " + ec.message());
    }
    if (response_[beast::http::field::sec_websocket_protocol] != request_.subprotocol) {
      return finish(close_protocol_error, "the server did not accept subprotocol " + request_.subprotocol);
    }
    response_ = {};
    open_ = true;
    ws_.text(true);
    callbacks_.opened(request_.number);
    read_next();
  }

  void read_next() {
    if (finished_) return;
    ws_.async_read(inbox_, [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    if (ec == websocket::error::closed) {
      const auto& why = ws_.reason();
      return finish(static_cast<std::uint16_t>(why.code), std::string(why.reason.c_str()));
    }
    if (ec) return finish(close_abnormal, "connection lost: " + ec.message());
    if (!ws_.got_text()) {
      inbox_.consume(inbox_.size());
      return read_next();  // the server sends only text; the session judges what text means
    }
    std::string text = beast::buffers_to_string(inbox_.data());
    inbox_.consume(inbox_.size());
    if (!finished_) callbacks_.frame(request_.number, std::move(text));
    read_next();
  }

  void write_next() {
    ws_.async_write(asio::buffer(outbox_.front()), [self = this->shared_from_this()](error_code ec, std::size_t) {
      if (ec) {
        self->outbox_.clear();  // the read side reports the failure
        return;
      }
      self->outbox_.pop_front();
      if (!self->outbox_.empty() && !self->finished_) self->write_next();
    });
  }

  void finish(std::uint16_t code, std::string reason) {
    if (finished_) return;
    finished_ = true;
    outbox_.clear();
    if (!open_ || !closing_) abort_socket();
    callbacks_.closed(request_.number, code, std::move(reason));
  }

  tcp::resolver resolver_;
  websocket::stream<NextLayer> ws_;
  connection_request request_;
  connection_callbacks callbacks_;
  websocket::response_type response_;
  beast::flat_buffer inbox_;
  std::deque<std::string> outbox_;
  bool open_ = false;
  bool closing_ = false;
  bool finished_ = false;
};

}  // namespace

std::uint16_t close_code_for_http_status(unsigned status) noexcept {
  if (status == 401) return 4401;
  if (status == 403) return 4403;
  if (status == 429) return 4029;
  if (status >= 400 && status < 500) return 4400;
  if (status >= 500) return 1011;
  return close_abnormal;  // a 1xx/2xx/3xx that is not an upgrade: treat as a network failure
}

std::shared_ptr<connection> make_connection(asio::io_context& ioc, ssl::context* tls_context,
                                            connection_request request, connection_callbacks callbacks) {
  if (request.where.tls)
    return std::make_shared<ws_connection<ssl::stream<beast::tcp_stream>>>(ioc, tls_context, std::move(request),
                                                                            std::move(callbacks));
  return std::make_shared<ws_connection<beast::tcp_stream>>(ioc, nullptr, std::move(request), std::move(callbacks));
}

}  // namespace globemeet::detail
