// PEM key files to OpenSSL keys.
#pragma once
#include <string_view>

#include "globemeet/core/result.hpp"
#include "openssl_handles.hpp"

namespace globemeet::server::auth::detail {

// A "PUBLIC KEY" (SubjectPublicKeyInfo) PEM block. Errors have code "invalid_key".
core::result<evp_pkey_ptr> read_public_pem(std::string_view pem);
// An unencrypted private key PEM block (PKCS#8 or traditional EC/RSA). Encrypted keys are
// refused rather than prompting for a passphrase.
core::result<evp_pkey_ptr> read_private_pem(std::string_view pem);

}  // namespace globemeet::server::auth::detail
