// Strict, incremental UTF-8 validation (RFC 3629): no overlong forms, no surrogates
// (U+D800..U+DFFF), nothing above U+10FFFF. Incremental so a text message split into
// fragments (even inside one code point) is checked as it arrives, failing fast.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace globemeet::server::wire {

class utf8_validator {
 public:
  // Checks the next bytes. Returns false as soon as the bytes so far cannot start valid UTF-8;
  // after that the validator stays failed until reset().
  bool feed(std::string_view bytes) noexcept;
  bool feed(const std::uint8_t* bytes, std::size_t size) noexcept;

  // True when everything fed so far is valid and ends on a code point boundary.
  bool complete() const noexcept { return state_ == accept_state; }
  bool failed() const noexcept { return state_ == reject_state; }

  void reset() noexcept { state_ = accept_state; }

  static constexpr std::uint8_t accept_state = 0;
  static constexpr std::uint8_t reject_state = 1;

 private:
  std::uint8_t state_ = accept_state;
};

// Whether `text` is entirely valid UTF-8.
bool is_valid_utf8(std::string_view text) noexcept;

// The longest prefix of `text` of at most `max_bytes` bytes that does not split a UTF-8
// sequence (for valid UTF-8 input: a valid prefix).
std::string_view truncate_utf8(std::string_view text, std::size_t max_bytes) noexcept;

}  // namespace globemeet::server::wire
