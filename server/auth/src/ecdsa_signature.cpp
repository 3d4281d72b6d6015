#include "ecdsa_signature.hpp"

#include <openssl/ecdsa.h>

#include "openssl_handles.hpp"

namespace globemeet::server::auth::detail {

std::optional<std::string> ecdsa_raw_to_der(std::string_view raw) {
  if (raw.size() != es256_signature_bytes) return std::nullopt;
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  bignum_ptr r(BN_bin2bn(bytes, static_cast<int>(es256_coordinate_bytes), nullptr));
  bignum_ptr s(BN_bin2bn(bytes + es256_coordinate_bytes, static_cast<int>(es256_coordinate_bytes),
                         nullptr));
  ecdsa_sig_ptr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    take_openssl_error();
    return std::nullopt;
  }
  (void)r.release();  // owned by sig now
  (void)s.release();
  const int length = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (length <= 0) {
    take_openssl_error();
    return std::nullopt;
  }
  std::string der(static_cast<std::size_t>(length), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != length) {
    take_openssl_error();
    return std::nullopt;
  }
  return der;
}

std::optional<std::string> ecdsa_der_to_raw(std::string_view der) {
  const auto* in = reinterpret_cast<const unsigned char*>(der.data());
  ecdsa_sig_ptr sig(d2i_ECDSA_SIG(nullptr, &in, static_cast<long>(der.size())));
  if (!sig) {
    take_openssl_error();
    return std::nullopt;
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(es256_signature_bytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, static_cast<int>(es256_coordinate_bytes)) < 0 ||
      BN_bn2binpad(s, out + es256_coordinate_bytes, static_cast<int>(es256_coordinate_bytes)) < 0) {
    take_openssl_error();
    return std::nullopt;
  }
  return raw;
}

}  // namespace globemeet::server::auth::detail
