#include "tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace globemeet::server::net {
namespace {

std::string openssl_error() {
  unsigned long code = ERR_get_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

}  // namespace

std::unique_ptr<boost::asio::ssl::context> make_tls13_context(const std::string& cert_file, const std::string& key_file,
                                                              std::string& error_message) {
  auto ctx = std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  // TLS 1.3 only: older versions are refused at the handshake.
  if (SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(native, TLS1_3_VERSION) != 1) {
    error_message = "TLS 1.3: " + openssl_error();
    return nullptr;
  }
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate_chain_file(native, cert_file.c_str()) != 1) {
    error_message = "--tls-cert " + cert_file + ": " + openssl_error();
    return nullptr;
  }
  if (SSL_CTX_use_PrivateKey_file(native, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    error_message = "--tls-key " + key_file + ": " + openssl_error();
    return nullptr;
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    error_message = "--tls-key does not match --tls-cert: " + openssl_error();
    return nullptr;
  }
  return ctx;
}

}  // namespace globemeet::server::net
