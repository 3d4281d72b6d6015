#include "tls_context.hpp"

#include <stdexcept>

#include <boost/asio/ssl/host_name_verification.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace globemeet::detail {

namespace ssl = boost::asio::ssl;

std::shared_ptr<ssl::context> make_client_tls_context(const std::string& ca_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->set_verify_mode(ssl::verify_peer);
  ctx->set_default_verify_paths();
  if (!ca_file.empty()) {
    boost::system::error_code ec;
    ctx->load_verify_file(ca_file, ec);
    if (ec) throw std::runtime_error("cannot load CA file '" + ca_file + "': " + ec.message());
  }
  return ctx;
}

bool prepare_tls_stream(ssl::stream<boost::beast::tcp_stream>& stream, const std::string& host, bool host_is_ip,
                        std::string& error) {
  if (!host_is_ip && SSL_set_tlsext_host_name(stream.native_handle(), host.c_str()) != 1) {
    error = "tls: cannot set SNI for '" + host + "'";
    return false;
  }
  stream.set_verify_mode(ssl::verify_peer);
  // Checks DNS names, and IP addresses against the certificate's IP SANs for IP literals.
  stream.set_verify_callback(ssl::host_name_verification(host));
  return true;
}

std::string describe_tls_error(const boost::system::error_code& ec) {
  std::string text = "tls: " + ec.message();
  if (ec.category() == boost::asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED)
    text = "tls: certificate verify failed (the server's certificate is not trusted; use a CA file)";
  return text;
}

}  // namespace globemeet::detail
