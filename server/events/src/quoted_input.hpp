// What a publisher wrote, quoted back in an error message: at most 128 bytes of it (a subject just over its 64-character limit is still shown whole). A refusal
// must name the culprit, not echo a member name or subject of up to the 1 MiB body limit.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace globemeet::server::events::detail {

// The first 128 bytes (fewer where a UTF-8 character would be split), or all of a shorter `s`.
inline std::string_view head_of_input(std::string_view s) {
  constexpr std::size_t max_bytes = 128;
  if (s.size() <= max_bytes) return s;
  std::size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // 10xxxxxx continues a character
  return s.substr(0, cut);
}

inline std::string length_note(std::string_view s) {
  return head_of_input(s).size() == s.size() ? std::string() : " (" + std::to_string(s.size()) + " bytes)";
}

// Unquoted, for a member name that stands in a path: "events[3].name...: unknown member".
inline std::string clipped_input(std::string_view s) {
  const auto head = head_of_input(s);
  return head.size() == s.size() ? std::string(s) : std::string(head) + "..." + length_note(s);
}

// Quoted, for a value: "subject: 'sss...' (75 bytes) is not a topic segment".
inline std::string quoted_input(std::string_view s) {
  const auto head = head_of_input(s);
  return "'" + std::string(head) + (head.size() == s.size() ? "'" : "...'") + length_note(s);
}

}  // namespace globemeet::server::events::detail
