#include "globemeet/server/wire/utf8.hpp"

#include <cstring>

namespace globemeet::server::wire {
namespace {

// States beyond accept (0) and reject (1): what the next continuation byte must be.
constexpr std::uint8_t need_1 = 2;     // one more continuation byte, 80..BF
constexpr std::uint8_t need_2 = 3;     // two more, the next 80..BF
constexpr std::uint8_t need_2_e0 = 4;  // after E0: A0..BF (anything lower is overlong)
constexpr std::uint8_t need_2_ed = 5;  // after ED: 80..9F (anything higher is a surrogate)
constexpr std::uint8_t need_3 = 6;     // three more, the next 80..BF
constexpr std::uint8_t need_3_f0 = 7;  // after F0: 90..BF (anything lower is overlong)
constexpr std::uint8_t need_3_f4 = 8;  // after F4: 80..8F (anything higher is beyond U+10FFFF)

std::uint8_t after_lead(std::uint8_t byte) noexcept {
  if (byte < 0x80) return utf8_validator::accept_state;
  if (byte < 0xC2) return utf8_validator::reject_state;  // stray continuation or overlong C0/C1
  if (byte < 0xE0) return need_1;
  if (byte == 0xE0) return need_2_e0;
  if (byte == 0xED) return need_2_ed;
  if (byte < 0xF0) return need_2;
  if (byte == 0xF0) return need_3_f0;
  if (byte < 0xF4) return need_3;
  if (byte == 0xF4) return need_3_f4;
  return utf8_validator::reject_state;
}

std::uint8_t step(std::uint8_t state, std::uint8_t byte) noexcept {
  const auto in = [byte](unsigned low, unsigned high) { return byte >= low && byte <= high; };
  switch (state) {
    case utf8_validator::accept_state: return after_lead(byte);
    case need_1: return in(0x80, 0xBF) ? utf8_validator::accept_state : utf8_validator::reject_state;
    case need_2: return in(0x80, 0xBF) ? need_1 : utf8_validator::reject_state;
    case need_2_e0: return in(0xA0, 0xBF) ? need_1 : utf8_validator::reject_state;
    case need_2_ed: return in(0x80, 0x9F) ? need_1 : utf8_validator::reject_state;
    case need_3: return in(0x80, 0xBF) ? need_2 : utf8_validator::reject_state;
    case need_3_f0: return in(0x90, 0xBF) ? need_2 : utf8_validator::reject_state;
    case need_3_f4: return in(0x80, 0x8F) ? need_2 : utf8_validator::reject_state;
    default: return utf8_validator::reject_state;
  }
}

}  // namespace

bool utf8_validator::feed(const std::uint8_t* bytes, std::size_t size) noexcept {
  std::size_t i = 0;
  while (i < size && state_ != reject_state) {
    // Between code points, skip ASCII eight bytes at a time: the common case for JSON.
    if (state_ == accept_state) {
      while (i + 8 <= size) {
        std::uint64_t chunk = 0;
        std::memcpy(&chunk, bytes + i, sizeof chunk);
        if ((chunk & 0x8080808080808080ULL) != 0) break;
        i += 8;
      }
      if (i == size) break;
    }
    state_ = step(state_, bytes[i]);
    ++i;
  }
  return state_ != reject_state;
}

bool utf8_validator::feed(std::string_view bytes) noexcept {
  return feed(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

bool is_valid_utf8(std::string_view text) noexcept {
  utf8_validator validator;
  return validator.feed(text) && validator.complete();
}

std::string_view truncate_utf8(std::string_view text, std::size_t max_bytes) noexcept {
  if (text.size() <= max_bytes) return text;
  // Cut before the sequence that straddles max_bytes: back off over continuation bytes
  // (10xxxxxx) to its lead byte. A sequence is at most four bytes long.
  std::size_t cut = max_bytes;
  for (int steps = 0; steps < 3 && cut > 0; ++steps) {
    const auto byte = static_cast<std::uint8_t>(text[cut]);
    if ((byte & 0xC0) != 0x80) break;
    --cut;
  }
  if ((static_cast<std::uint8_t>(text[cut]) & 0xC0) == 0x80) cut = max_bytes;  // not UTF-8 here
  return text.substr(0, cut);
}

}  // namespace globemeet::server::wire
