#include "globemeet/server/auth/secret_hash.hpp"

#include <charconv>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "globemeet/server/auth/base64.hpp"
#include "globemeet/server/auth/constant_time.hpp"
#include "openssl_handles.hpp"

namespace globemeet::server::auth {
namespace {

constexpr std::string_view scheme = "pbkdf2-sha256";
constexpr std::size_t salt_bytes = 16;
constexpr std::size_t min_salt_bytes = 8;
constexpr std::size_t hash_bytes = 32;  // one SHA-256 block: more output would only cost more

struct parsed_hash {
  std::uint32_t iterations = 0;
  std::string salt;
  std::string hash;
};

core::error invalid_hash(std::string message) { return {"invalid_hash", std::move(message)}; }

core::result<parsed_hash> parse(std::string_view encoded) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = encoded.find('$', start);
    fields.push_back(encoded.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (fields.size() != 4 || fields[0] != scheme)
    return invalid_hash("expected pbkdf2-sha256$<iterations>$<salt>$<hash>");
  parsed_hash out;
  const auto [end, ec] =
      std::from_chars(fields[1].data(), fields[1].data() + fields[1].size(), out.iterations);
  if (ec != std::errc() || end != fields[1].data() + fields[1].size() || fields[1].front() == '0')
    return invalid_hash("iterations is not a decimal number");
  if (out.iterations < min_pbkdf2_iterations || out.iterations > max_pbkdf2_iterations)
    return invalid_hash("iterations must be between " + std::to_string(min_pbkdf2_iterations) +
                        " and " + std::to_string(max_pbkdf2_iterations));
  auto salt = base64url_decode(fields[2]);
  if (!salt || salt->size() < min_salt_bytes)
    return invalid_hash("salt must be base64url of at least " + std::to_string(min_salt_bytes) + " bytes");
  auto hash = base64url_decode(fields[3]);
  if (!hash || hash->size() != hash_bytes)
    return invalid_hash("hash must be base64url of " + std::to_string(hash_bytes) + " bytes");
  out.salt = std::move(*salt);
  out.hash = std::move(*hash);
  return out;
}

std::optional<std::string> pbkdf2(std::string_view secret, std::string_view salt,
                                  std::uint32_t iterations) {
  std::string out(hash_bytes, '\0');
  if (PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha256(),
                        static_cast<int>(out.size()),
                        reinterpret_cast<unsigned char*>(out.data())) != 1) {
    detail::take_openssl_error();
    return std::nullopt;
  }
  return out;
}

// HMAC pads a key shorter than its block with zero bytes, so PBKDF2 would take "s3cret" and
// "s3cret\0\0" as one secret. Control characters have no place in a secret: refused outright.
bool has_control_character(std::string_view secret) {
  for (unsigned char c : secret)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

}  // namespace

core::result<std::string> hash_secret(std::string_view secret, std::uint32_t iterations) {
  if (secret.empty()) return core::error{"invalid_argument", "the secret is empty"};
  if (secret.size() > 1024) return core::error{"invalid_argument", "the secret is longer than 1024 bytes"};
  if (has_control_character(secret))
    return core::error{"invalid_argument", "the secret contains a control character (0x00-0x1f or 0x7f)"};
  if (iterations < min_pbkdf2_iterations || iterations > max_pbkdf2_iterations)
    return core::error{"invalid_argument", "iterations must be between " +
                                               std::to_string(min_pbkdf2_iterations) + " and " +
                                               std::to_string(max_pbkdf2_iterations)};
  std::string salt(salt_bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) != 1)
    return core::error{"internal_error", "no random salt: " + detail::take_openssl_error()};
  auto hash = pbkdf2(secret, salt, iterations);
  if (!hash) return core::error{"internal_error", "PBKDF2 failed"};
  std::string encoded = std::string(scheme) + "$" + std::to_string(iterations) + "$" +
                        base64url_encode(salt) + "$" + base64url_encode(*hash);
  OPENSSL_cleanse(hash->data(), hash->size());
  return encoded;
}

std::optional<core::error> check_secret_hash(std::string_view encoded) {
  auto parsed = parse(encoded);
  if (!parsed) return parsed.err();
  return std::nullopt;
}

std::optional<std::uint32_t> secret_hash_iterations(std::string_view encoded) {
  auto parsed = parse(encoded);
  if (!parsed) return std::nullopt;
  return parsed->iterations;
}

bool verify_secret(std::string_view secret, std::string_view encoded) {
  auto parsed = parse(encoded);
  if (!parsed || secret.size() > 1024 || has_control_character(secret)) return false;
  auto candidate = pbkdf2(secret, parsed->salt, parsed->iterations);
  if (!candidate) return false;
  const bool match = constant_time_equal(*candidate, parsed->hash);
  OPENSSL_cleanse(candidate->data(), candidate->size());
  return match;
}

}  // namespace globemeet::server::auth
