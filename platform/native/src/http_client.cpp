#include "http_client.hpp"

#include <exception>
#include <optional>
#include <stdexcept>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>

#include "tls_context.hpp"

namespace globemeet::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Turns the error of one step into the one-line message callers print.
[[noreturn]] void fail(const std::string& step, const boost::system::error_code& ec, const endpoint& server) {
  if (ec == beast::error::timeout) throw std::runtime_error(step + " " + server.host_header() + ": timed out");
  if (ec.category() == asio::error::get_ssl_category()) throw std::runtime_error(describe_tls_error(ec));
  throw std::runtime_error(step + " " + server.host_header() + ": " + ec.message());
}

// What a peer that closed an idle kept-alive connection looks like from our side.
bool closed_by_peer(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::ssl::error::stream_truncated;
}

http::request<http::string_body> make_request(const endpoint& server, const http_request& r) {
  http::request<http::string_body> req{http::string_to_verb(r.method), r.target, 11};
  req.set(http::field::host, server.host_header());
  req.set(http::field::user_agent, "globemeet/0.1 " BOOST_BEAST_VERSION_STRING);
  for (const auto& [name, value] : r.headers) req.set(name, value);
  req.keep_alive(true);
  req.body() = r.body;
  req.prepare_payload();
  return req;
}

// Raised inside the coroutine when a reused connection was found closed before any answer.
struct stale_connection {};

}  // namespace

struct http_connection::impl {
  asio::io_context ioc;
  endpoint server;
  std::string ca_file;
  std::chrono::milliseconds timeout;
  std::shared_ptr<asio::ssl::context> tls_ctx;
  std::optional<beast::tcp_stream> plain;
  std::optional<asio::ssl::stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  unsigned opened = 0;

  bool is_open() const { return plain.has_value() || tls.has_value(); }
  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  void close() {
    boost::system::error_code ignored;
    if (is_open()) lowest().socket().close(ignored);
    tls.reset();
    plain.reset();
    buffer.clear();
  }

  asio::awaitable<void> open() {
    boost::system::error_code ec;
    auto token = asio::redirect_error(asio::use_awaitable, ec);
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(timeout);
    auto results = co_await resolver.async_resolve(server.host, server.port, token);
    if (ec) fail("cannot resolve", ec, server);
    co_await stream.async_connect(results, token);
    if (ec) fail("cannot connect to", ec, server);
    stream.socket().set_option(tcp::no_delay(true), ec);
    ++opened;
    if (!server.tls) {
      plain.emplace(std::move(stream));
      co_return;
    }
    tls.emplace(std::move(stream), *tls_ctx);
    std::string error;
    if (!prepare_tls_stream(*tls, server.host, server.host_is_ip(), error)) {
      tls.reset();
      throw std::runtime_error(error);
    }
    beast::get_lowest_layer(*tls).expires_after(timeout);
    co_await tls->async_handshake(asio::ssl::stream_base::client, token);
    if (ec) {
      tls.reset();
      fail("TLS handshake with", ec, server);
    }
  }

  template <class Stream>
  asio::awaitable<http_response> exchange(Stream& stream, const http::request<http::string_body>& req, bool reused) {
    boost::system::error_code ec;
    auto token = asio::redirect_error(asio::use_awaitable, ec);
    lowest().expires_after(timeout);
    co_await http::async_write(stream, req, token);
    if (ec) {
      if (reused && closed_by_peer(ec)) throw stale_connection{};
      fail("cannot send to", ec, server);
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(4 * 1024 * 1024);
    lowest().expires_after(timeout);
    co_await http::async_read(stream, buffer, parser, token);
    if (ec) {
      if (reused && closed_by_peer(ec) && !parser.got_some()) throw stale_connection{};
      fail("no answer from", ec, server);
    }
    if (!parser.get().keep_alive()) close();
    co_return http_response{parser.get().result_int(), std::move(parser.get().body())};
  }

  asio::awaitable<http_response> run(const http_request& request) {
    const auto req = make_request(server, request);
    for (int attempt = 0;; ++attempt) {
      const bool reused = is_open();
      if (!reused) co_await open();
      try {
        if (tls) co_return co_await exchange(*tls, req, reused);
        co_return co_await exchange(*plain, req, reused);
      } catch (const stale_connection&) {
        close();
        if (attempt > 0) throw std::runtime_error("no answer from " + server.host_header() + ": connection closed");
      }
    }
  }
};

http_connection::http_connection(endpoint server, std::string ca_file, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>()) {
  impl_->server = std::move(server);
  impl_->ca_file = std::move(ca_file);
  impl_->timeout = timeout;
  if (impl_->server.tls) impl_->tls_ctx = make_client_tls_context(impl_->ca_file);
}

http_connection::~http_connection() { impl_->close(); }

unsigned http_connection::connections_opened() const { return impl_->opened; }

http_response http_connection::send(const http_request& request) {
  http_response response;
  std::exception_ptr failure;
  impl_->ioc.restart();
  asio::co_spawn(impl_->ioc, impl_->run(request), [&](std::exception_ptr e, http_response r) {
    failure = e;
    response = std::move(r);
  });
  impl_->ioc.run();
  if (failure) {
    impl_->close();  // the stream's state after a failed step is unknown: start afresh next time
    std::rethrow_exception(failure);
  }
  return response;
}

http_response send_http(const endpoint& server, const http_request& request, const std::string& ca_file,
                        std::chrono::milliseconds timeout) {
  http_connection connection(server, ca_file, timeout);
  return connection.send(request);
}

std::string join_target(const std::string& base, const std::string& path) {
  std::string out = base;
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out + path;
}

}  // namespace globemeet::detail
