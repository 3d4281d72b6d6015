// Strict base64 and base64url. Strictness matters here: a JWT segment has exactly one accepted
// spelling, so a token cannot be re-encoded into a different string that still verifies.
#include "globemeet/server/auth/base64.hpp"

#include <array>
#include <cstdint>

namespace globemeet::server::auth {
namespace {

constexpr std::string_view url_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view std_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::uint8_t invalid = 0xFF;

constexpr std::array<std::uint8_t, 256> reverse_table(std::string_view alphabet) {
  std::array<std::uint8_t, 256> table{};
  for (auto& entry : table) entry = invalid;
  for (std::size_t i = 0; i < alphabet.size(); ++i)
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint8_t>(i);
  return table;
}

constexpr auto url_reverse = reverse_table(url_alphabet);
constexpr auto std_reverse = reverse_table(std_alphabet);

// Decodes unpadded text in the given alphabet; refuses a dangling single character and
// non-zero unused bits in the last character.
std::optional<std::string> decode_unpadded(std::string_view text,
                                           const std::array<std::uint8_t, 256>& reverse) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const std::uint8_t sextet = reverse[static_cast<unsigned char>(c)];
    if (sextet == invalid) return std::nullopt;
    buffer = (buffer << 6) | sextet;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  // Leftover bits (2 or 4) must be zero for the spelling to be canonical.
  if (bits > 0 && (buffer & ((1U << bits) - 1U)) != 0) return std::nullopt;
  return out;
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : bytes) {
    buffer = (buffer << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(url_alphabet[(buffer >> bits) & 0x3F]);
    }
  }
  if (bits > 0) out.push_back(url_alphabet[(buffer << (6 - bits)) & 0x3F]);
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  return decode_unpadded(text, url_reverse);
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=')
    ++padding;
  return decode_unpadded(text.substr(0, text.size() - padding), std_reverse);
}

}  // namespace globemeet::server::auth
