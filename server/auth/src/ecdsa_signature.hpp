// JWS carries an ES256 signature as R||S, each a 32-byte big-endian integer (RFC 7518 section
// 3.4); OpenSSL speaks DER ECDSA-Sig-Value. These convert between the two.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace globemeet::server::auth::detail {

inline constexpr std::size_t es256_coordinate_bytes = 32;
inline constexpr std::size_t es256_signature_bytes = 2 * es256_coordinate_bytes;

// nullopt unless `raw` is exactly 64 bytes.
std::optional<std::string> ecdsa_raw_to_der(std::string_view raw);
// nullopt when `der` is not a DER ECDSA signature whose R and S fit in 32 bytes each.
std::optional<std::string> ecdsa_der_to_raw(std::string_view der);

}  // namespace globemeet::server::auth::detail
