#include "http_client.hpp"

#include <exception>
#include <stdexcept>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>

#include "tls_context.hpp"

namespace globemeet::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Turns the error of one step into the one-line message the CLI prints.
[[noreturn]] void fail(const std::string& step, const boost::system::error_code& ec, const detail::endpoint& server) {
  if (ec == beast::error::timeout) throw std::runtime_error(step + " " + server.host_header() + ": timed out");
  if (ec.category() == asio::error::get_ssl_category()) throw std::runtime_error(detail::describe_tls_error(ec));
  throw std::runtime_error(step + " " + server.host_header() + ": " + ec.message());
}

http::request<http::string_body> make_request(const detail::endpoint& server, const http_request& r) {
  http::request<http::string_body> req{http::string_to_verb(r.method), r.target, 11};
  req.set(http::field::host, server.host_header());
  req.set(http::field::user_agent, "globemeet-cli/0.1 " BOOST_BEAST_VERSION_STRING);
  for (const auto& [name, value] : r.headers) req.set(name, value);
  req.body() = r.body;
  req.prepare_payload();
  return req;
}

template <class Stream>
asio::awaitable<http_response> exchange(Stream& stream, beast::tcp_stream& tcp_layer,
                                        http::request<http::string_body> req, const detail::endpoint& server,
                                        std::chrono::milliseconds timeout) {
  boost::system::error_code ec;
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  tcp_layer.expires_after(timeout);
  co_await http::async_write(stream, req, token);
  if (ec) fail("cannot send to", ec, server);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(4 * 1024 * 1024);
  tcp_layer.expires_after(timeout);
  co_await http::async_read(stream, buffer, parser, token);
  if (ec) fail("no answer from", ec, server);
  co_return http_response{parser.get().result_int(), std::move(parser.get().body())};
}

asio::awaitable<http_response> run(asio::io_context& ioc, const detail::endpoint& server, http_request request,
                                   const std::string& ca_file, std::chrono::milliseconds timeout) {
  boost::system::error_code ec;
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  tcp::resolver resolver(ioc);
  beast::tcp_stream tcp_stream(ioc);
  tcp_stream.expires_after(timeout);
  auto results = co_await resolver.async_resolve(server.host, server.port, token);
  if (ec) fail("cannot resolve", ec, server);
  co_await tcp_stream.async_connect(results, token);
  if (ec) fail("cannot connect to", ec, server);
  tcp_stream.socket().set_option(tcp::no_delay(true), ec);
  auto req = make_request(server, request);
  if (!server.tls) co_return co_await exchange(tcp_stream, tcp_stream, std::move(req), server, timeout);

  auto ctx = detail::make_client_tls_context(ca_file);
  asio::ssl::stream<beast::tcp_stream> tls(std::move(tcp_stream), *ctx);
  std::string error;
  if (!detail::prepare_tls_stream(tls, server.host, server.host_is_ip(), error)) throw std::runtime_error(error);
  beast::get_lowest_layer(tls).expires_after(timeout);
  co_await tls.async_handshake(asio::ssl::stream_base::client, token);
  if (ec) fail("TLS handshake with", ec, server);
  co_return co_await exchange(tls, beast::get_lowest_layer(tls), std::move(req), server, timeout);
}

}  // namespace

http_response send_http(const detail::endpoint& server, const http_request& request, const std::string& ca_file,
                        std::chrono::milliseconds timeout) {
  asio::io_context ioc;
  http_response response;
  std::exception_ptr failure;
  asio::co_spawn(ioc, run(ioc, server, request, ca_file, timeout),
                 [&](std::exception_ptr e, http_response r) {
                   failure = e;
                   response = std::move(r);
                 });
  ioc.run();
  if (failure) std::rethrow_exception(failure);
  return response;
}

}  // namespace globemeet::cli
