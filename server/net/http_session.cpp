#include "http_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <optional>

#include "byte_stream.hpp"
#include "http_routes.hpp"
#include "logger.hpp"
#include "websocket_session.hpp"
#include "globemeet/server/events/publish.hpp"
#include "globemeet/server/wire/handshake.hpp"

namespace globemeet::server::net {
namespace {

namespace http = beast::http;

constexpr auto tls_handshake_timeout = std::chrono::seconds(10);
constexpr auto request_timeout = std::chrono::seconds(30);
// Room for a token of the largest size the verifier takes (16 KiB) with the other headers, so an
// oversized token is refused as a token (401 invalid_token), not as a malformed request.
constexpr std::uint32_t header_limit = 32 * 1024;
constexpr auto linger_timeout = std::chrono::seconds(2);
constexpr std::size_t max_linger_bytes = 4 * 1024 * 1024;

std::string_view header(const http::request<http::string_body>& req, http::field name) {
  auto it = req.find(name);
  return it == req.end() ? std::string_view{} : std::string_view(it->value().data(), it->value().size());
}

class http_session : public std::enable_shared_from_this<http_session> {
 public:
  http_session(server_state& state, session_registry& registry, asio::ssl::context* tls, asio::ip::tcp::socket socket)
      : state_(state), registry_(registry), stream_(std::move(socket), tls) {
    boost::system::error_code ec;
    auto endpoint = stream_.tcp().socket().remote_endpoint(ec);
    if (!ec) address_ = endpoint.address().to_string();
  }

  void run() {
    if (!stream_.is_tls()) {
      read_request();
      return;
    }
    stream_.tcp().expires_after(tls_handshake_timeout);
    stream_.tls().async_handshake(asio::ssl::stream_base::server,
                                  [self = shared_from_this()](boost::system::error_code ec) {
                                    if (ec) {
                                      logger::info("tls_handshake_failed", {{"address", self->address_}, {"error", ec.message()}});
                                      self->stream_.close();
                                      return;
                                    }
                                    self->read_request();
                                  });
  }

 private:
  void read_request() {
    parser_.emplace();
    parser_->body_limit(events::max_publish_body_bytes);
    parser_->header_limit(header_limit);
    stream_.tcp().expires_after(request_timeout);
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
      self->on_request(ec);
    });
  }

  void on_request(boost::system::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted || ec == beast::error::timeout ||
        ec == asio::error::eof || ec == asio::error::connection_reset) {
      stream_.close();
      return;
    }
    if (ec == http::error::body_limit) {
      send(json_error(413, events::payload_too_large_code, "the body is larger than 1 MiB"), false);
      return;
    }
    if (ec == http::error::header_limit) {
      send(json_error(431, "header_too_large", "the request's headers are larger than 32 KiB"), false);
      return;
    }
    if (ec) {
      send(json_error(400, "bad_request", "malformed HTTP request: " + ec.message()), false);
      return;
    }
    auto& req = parser_->get();
    if (target_path(req.target()) == "/v1/events" && req.method() == http::verb::get &&
        req.find(http::field::upgrade) != req.end()) {
      upgrade(req);
      return;
    }
    const auto key = req.find("Idempotency-Key");
    http_request request{req.method_string(),
                         req.target(),
                         header(req, http::field::authorization),
                         header(req, http::field::content_type),
                         req.body(),
                         key == req.end() ? std::string_view{} : std::string_view(key->value().data(), key->value().size()),
                         key != req.end()};
    // Most answers come at once, on this connection's executor, and are sent inline; a durable
    // log answers from its own thread, and dispatch then hands the send back to the executor.
    route_http(state_, request, [self = shared_from_this(), keep_alive = req.keep_alive()](http_response response) {
      asio::dispatch(self->stream_.get_executor(), [self, keep_alive, response = std::move(response)]() mutable {
        self->send(std::move(response), keep_alive);
      });
    });
  }

  void send(http_response response, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(response.status), 11);
    res->set(http::field::server, "globemeet-server");
    res->set(http::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) res->set(name, value);
    res->body() = std::move(response.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res, keep_alive](boost::system::error_code ec, std::size_t) {
      if (ec) {
        self->stream_.close();
        return;
      }
      if (!keep_alive) {
        self->linger_close();
        return;
      }
      self->read_request();
    });
  }

  // Closing with unread request bytes would reset the connection, and the client could lose
  // the response (a 413 while it still uploads). So: stop sending, discard what still comes
  // for a bounded time and amount, then close.
  void linger_close() {
    if (stream_.is_tls()) {
      stream_.close();
      return;
    }
    boost::system::error_code ignored;
    stream_.tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    stream_.tcp().expires_after(linger_timeout);
    discard_more();
  }

  void discard_more() {
    stream_.tcp().async_read_some(asio::buffer(discard_), [self = shared_from_this()](boost::system::error_code ec,
                                                                                          std::size_t n) {
      self->discarded_ += n;
      if (ec || self->discarded_ > max_linger_bytes) {
        self->stream_.close();
        return;
      }
      self->discard_more();
    });
  }

  void refuse(const wire::handshake_response& answer) {
    state_.stats.handshake_refusals.fetch_add(1, std::memory_order_relaxed);
    http_response response;
    response.status = static_cast<int>(answer.status);
    response.body = answer.body;
    for (const auto& h : answer.headers) {
      if (beast::iequals(h.name, "Content-Type"))
        response.content_type = h.value;
      else
        response.headers.emplace_back(h.name, h.value);
    }
    send(std::move(response), false);
  }

  void upgrade(http::request<http::string_body>& req) {
    if (state_.draining.load()) {
      refuse(wire::http_error(503, "shutting_down", "the server is shutting down; reconnect later"));
      return;
    }
    // A jetstream log that has not reached its stream knows neither epoch nor head: a client
    // could not resume here, so it is sent to another node (or back later).
    if (!state_.log->started()) {
      refuse(wire::http_error(503, "log_unavailable", "the server has not reached its event log yet; reconnect later"));
      return;
    }
    wire::upgrade_request check{req.method_string(),
                                header(req, http::field::upgrade),
                                header(req, http::field::connection),
                                header(req, http::field::sec_websocket_version),
                                header(req, http::field::sec_websocket_key),
                                header(req, http::field::sec_websocket_protocol)};
    auto answer = wire::evaluate_upgrade(check);
    if (!answer.accepted()) {
      refuse(answer);
      return;
    }
    std::string_view origin = header(req, http::field::origin);
    if (!origin.empty() && std::find(state_.config.allowed_origins.begin(), state_.config.allowed_origins.end(),
                                     origin) == state_.config.allowed_origins.end()) {
      refuse(wire::http_error(403, "origin_not_allowed", "the Origin is not on the server's allow-list"));
      return;
    }

    websocket_start start;
    start.address = address_;
    if (auto it = req.find("Last-Event-ID"); it != req.end()) start.last_event_id = std::string(it->value());
    std::string_view authorization = header(req, http::field::authorization);
    if (!authorization.empty()) {
      std::string_view token = bearer_token(authorization);
      auto verified = state_.tokens_verifier->verify(token, unix_now_s());
      if (token.empty() || !verified) {
        const std::string reason = token.empty() ? "expected Authorization: Bearer <token>" : verified.err().message;
        logger::info("auth_failed", {{"address", address_}, {"path", "handshake"}, {"reason", reason}});
        auto refusal = wire::http_error(401, "invalid_token", reason);
        refusal.headers.push_back({"WWW-Authenticate", std::string(bearer_challenge)});
        refuse(refusal);
        return;
      }
      if (verified->perms.empty()) {
        refuse(wire::http_error(403, "forbidden", "the token permits no topic"));
        return;
      }
      start.claims = std::move(verified.value());
    }
    if (!state_.limits.acquire_address(address_)) {
      refuse_too_many("too many connections from this address");
      return;
    }
    if (start.claims && !state_.limits.acquire_tenant(start.claims->tenant)) {
      state_.limits.release_address(address_);
      refuse_too_many("too many connections for this tenant");
      return;
    }

    auto res = std::make_shared<http::response<http::empty_body>>(http::status::switching_protocols, 11);
    for (const auto& h : answer.headers) res->set(h.name, h.value);
    res->set(http::field::server, "globemeet-server");
    auto start_ptr = std::make_shared<websocket_start>(std::move(start));
    http::async_write(stream_, *res, [self = shared_from_this(), res, start_ptr](boost::system::error_code ec, std::size_t) {
      if (ec) {
        if (start_ptr->claims) self->state_.limits.release_tenant(start_ptr->claims->tenant);
        self->state_.limits.release_address(self->address_);
        self->stream_.close();
        return;
      }
      self->become_websocket(std::move(*start_ptr));
    });
  }

  void refuse_too_many(std::string_view message) {
    auto answer = wire::http_error(429, "too_many_connections", message);
    answer.headers.push_back({"Retry-After", "5"});
    refuse(answer);
  }

  void become_websocket(websocket_start start) {
    stream_.tcp().expires_never();
    auto leftover = buffer_.data();
    auto session = std::make_shared<websocket_session>(state_, registry_, std::move(stream_), std::move(start));
    session->start(std::string_view(static_cast<const char*>(leftover.data()), leftover.size()));
  }

  server_state& state_;
  session_registry& registry_;
  byte_stream stream_;
  std::string address_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::array<char, 4096> discard_{};
  std::size_t discarded_ = 0;
};

}  // namespace

void start_http_session(server_state& state, session_registry& registry, asio::ssl::context* tls,
                        asio::ip::tcp::socket socket) {
  std::make_shared<http_session>(state, registry, tls, std::move(socket))->run();
}

}  // namespace globemeet::server::net
