// The client side of TLS: one context per Client (or CLI request), peer verification on.
#pragma once
#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace globemeet::detail {

// OpenSSL's default trust store, plus `ca_file` (PEM) when not empty; TLS 1.2 at least.
// Throws std::runtime_error naming the file when it cannot be loaded.
std::shared_ptr<boost::asio::ssl::context> make_client_tls_context(const std::string& ca_file);

// SNI (for host names, not IP literals) and certificate verification against `host`.
// Returns false with `error` set when OpenSSL refuses the name.
bool prepare_tls_stream(boost::asio::ssl::stream<boost::beast::tcp_stream>& stream, const std::string& host,
                        bool host_is_ip, std::string& error);

// "certificate verify failed (...)" style text for a TLS error, prefixed so callers can tell
// TLS failures from network ones.
std::string describe_tls_error(const boost::system::error_code& ec);

}  // namespace globemeet::detail
