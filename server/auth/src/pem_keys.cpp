#include "pem_keys.hpp"

#include <climits>
#include <string>

#include <openssl/pem.h>

namespace globemeet::server::auth::detail {
namespace {

core::error invalid_key(std::string message) { return {"invalid_key", std::move(message)}; }

// Refuses to decrypt: a passphrase would need a prompt, and servers have no terminal.
int no_passphrase(char*, int, int, void*) { return -1; }

core::result<bio_ptr> memory_bio(std::string_view pem) {
  if (pem.size() > static_cast<std::size_t>(INT_MAX)) return invalid_key("PEM text is too large");
  bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return invalid_key("cannot read PEM: " + take_openssl_error());
  return bio;
}

}  // namespace

core::result<evp_pkey_ptr> read_public_pem(std::string_view pem) {
  auto bio = memory_bio(pem);
  if (!bio) return bio.err();
  evp_pkey_ptr pkey(PEM_read_bio_PUBKEY(bio->get(), nullptr, no_passphrase, nullptr));
  if (!pkey) return invalid_key("not a PEM public key (\"BEGIN PUBLIC KEY\"): " + take_openssl_error());
  return pkey;
}

core::result<evp_pkey_ptr> read_private_pem(std::string_view pem) {
  auto bio = memory_bio(pem);
  if (!bio) return bio.err();
  evp_pkey_ptr pkey(PEM_read_bio_PrivateKey(bio->get(), nullptr, no_passphrase, nullptr));
  if (!pkey)
    return invalid_key("not an unencrypted PEM private key: " + take_openssl_error());
  return pkey;
}

}  // namespace globemeet::server::auth::detail
