#include "idempotency_key.hpp"

#include <openssl/evp.h>

#include <memory>

namespace globemeet::server::net {

std::optional<std::string> check_idempotency_key(std::string_view key) {
  if (key.empty() || key.size() > 255) return "Idempotency-Key must be 1 to 255 characters";
  for (char ch : key)
    if (ch < 0x21 || ch > 0x7e) return "Idempotency-Key may hold only visible ASCII characters (no spaces)";
  return std::nullopt;
}

bool assign_idempotency_ids(std::vector<events::pending_event>& batch, std::string_view key) {
  static constexpr char digits[] = "0123456789abcdef";
  const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    events::pending_event& event = batch[i];
    // Length-prefixed fields, so no two different inputs hash the same bytes.
    std::string input;
    const std::string index = std::to_string(i);
    for (std::string_view part : {std::string_view(event.tenant), key, std::string_view(index),
                                  std::string_view(event.topic), std::string_view(event.data_json)}) {
      input += std::to_string(part.size());
      input += ':';
      input += part;
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), input.data(), input.size()) != 1 || EVP_DigestFinal_ex(ctx.get(), digest, &size) != 1)
      return false;
    std::string id = "gm1-";
    for (unsigned int b = 0; b < 20 && b < size; ++b) {
      id += digits[digest[b] >> 4];
      id += digits[digest[b] & 15];
    }
    event.idempotency_id = std::move(id);
  }
  return true;
}

}  // namespace globemeet::server::net
