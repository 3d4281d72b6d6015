// Key material and token crafting for the auth tests: fresh keys from OpenSSL (never keys
// checked into the repo), and a way to sign arbitrary header/payload text, so tests can build
// the malicious tokens the public signer refuses to make.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace globemeet::server::auth::test {

struct pem_pair {
  std::string private_pem;
  std::string public_pem;
};

// Freshly generated keys; `curve` is an OpenSSL group name such as "P-256" or "P-384".
pem_pair make_ec_pem(const char* curve = "P-256");
pem_pair make_rsa_pem(unsigned bits = 2048);
// A P-256 private key in PEM encrypted with AES-256-CBC under `passphrase`.
std::string make_encrypted_ec_pem(const char* passphrase);

// The compact JWS of exactly these header and payload texts, signed with a PEM private key
// (ES256 or RS256 by key type) or an HMAC secret.
std::string sign_with_pem(std::string_view header_json, std::string_view payload_json,
                          std::string_view private_pem);
std::string sign_with_secret(std::string_view header_json, std::string_view payload_json,
                             std::string_view secret);
// ECDSA with SHA-256 on whatever curve the PEM key has, R||S padded to that curve's size: how
// a confused signer would make an "ES256" token with a P-384 key.
std::string sign_ecdsa_any_curve(std::string_view header_json, std::string_view payload_json,
                                 std::string_view private_pem);
// Header and payload with an empty signature (for alg "none").
std::string unsigned_token(std::string_view header_json, std::string_view payload_json);

// A payload with every required claim, valid at `now` for issuer "https://auth.test" and
// audience "globemeet-events"; `extra` members (JSON text without braces) are appended.
std::string good_payload(std::int64_t now, std::string_view extra = {});

}  // namespace globemeet::server::auth::test
