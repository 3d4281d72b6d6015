#include "openssl_handles.hpp"

#include <array>

#include <openssl/err.h>

namespace globemeet::server::auth::detail {

std::string take_openssl_error() {
  const unsigned long code = ERR_get_error();
  std::string text = "no details";
  if (code != 0) {
    std::array<char, 256> buffer{};
    ERR_error_string_n(code, buffer.data(), buffer.size());
    text = buffer.data();
  }
  ERR_clear_error();
  return text;
}

}  // namespace globemeet::server::auth::detail
