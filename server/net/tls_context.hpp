// The server's TLS context: TLS 1.3 only (minimum and maximum protocol version), certificate
// chain and key from PEM files. Included only where Asio's SSL is needed anyway.
#pragma once
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

namespace globemeet::server::net {

// nullptr and `error_message` set when the files cannot be loaded or do not match.
std::unique_ptr<boost::asio::ssl::context> make_tls13_context(const std::string& cert_file, const std::string& key_file,
                                                              std::string& error_message);

}  // namespace globemeet::server::net
