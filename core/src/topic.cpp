// Topic grammar (docs/protocol.md section 4). Validation reports the first rule broken, reading
// left to right, with the segment (counted from 1) or the byte offset (counted from 0) where it
// broke; a pattern that obeys the grammar is then refused if it can match no name. Matching and
// containment walk the strings segment by segment without allocating.
#include "globemeet/core/topic.hpp"

#include <algorithm>
#include <array>
#include <string>

namespace globemeet::core::topic {
namespace {

constexpr std::string_view invalid_topic = "invalid_topic";
constexpr std::string_view allowed_characters = "A-Z a-z 0-9 _ -";

// Yields the '.'-separated segments of a string in order. An empty string has no segments;
// "a." has two ("a" and ""), so malformed input never reads past its end.
class segment_reader {
 public:
  explicit segment_reader(std::string_view text) noexcept : rest_(text), done_(text.empty()) {}

  bool next(std::string_view& segment) noexcept {
    if (done_) return false;
    const auto dot = rest_.find('.');
    if (dot == std::string_view::npos) {
      segment = rest_;
      done_ = true;
    } else {
      segment = rest_.substr(0, dot);
      rest_.remove_prefix(dot + 1);
    }
    return true;
  }

 private:
  std::string_view rest_;
  bool done_;
};

bool is_segment_character(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

bool is_printable_ascii(char c) noexcept { return c >= 0x20 && c < 0x7f; }

// Messages travel in JSON error frames, so they quote only printable ASCII; any other byte is
// written as \xNN (the input may be invalid UTF-8).
void append_hex_byte(std::string& out, char c) {
  constexpr std::string_view digits = "0123456789abcdef";
  const auto byte = static_cast<unsigned char>(c);
  out += digits[byte >> 4];
  out += digits[byte & 0x0f];
}

void append_quoted(std::string& out, std::string_view text) {
  out += '\'';
  for (const char c : text) {
    if (is_printable_ascii(c)) {
      out += c;
    } else {
      out += "\\x";
      append_hex_byte(out, c);
    }
  }
  out += '\'';
}

error invalid(std::string message) { return error{std::string(invalid_topic), std::move(message)}; }

enum class grammar { name, pattern };

std::string_view noun(grammar g) noexcept { return g == grammar::name ? "topic name" : "topic pattern"; }

std::optional<error> segment_error(grammar g, std::string_view segment, std::size_t number,
                                   std::size_t offset, bool is_last) {
  if (segment == "*" || segment == ">") {
    if (g == grammar::name) {
      std::string message = "a topic name cannot contain wildcards (segment " + std::to_string(number) + ": ";
      append_quoted(message, segment);
      return invalid(message + ")");
    }
    if (segment == ">" && !is_last) {
      return invalid("'>' must be the last segment (found at segment " + std::to_string(number) + ")");
    }
    return std::nullopt;
  }
  if (segment.size() > max_segment_bytes) {
    return invalid("segment " + std::to_string(number) + " is longer than " + std::to_string(max_segment_bytes) +
                   " bytes (" + std::to_string(segment.size()) + " bytes)");
  }
  for (std::size_t i = 0; i < segment.size(); ++i) {
    const char c = segment[i];
    if (c == '*' || c == '>') {
      std::string message = g == grammar::name ? std::string("a topic name cannot contain wildcards")
                                               : "wildcard '" + std::string(1, c) + "' must be a whole segment";
      message += " (segment " + std::to_string(number) + ": ";
      append_quoted(message, segment);
      return invalid(message + ")");
    }
    if (!is_segment_character(c)) {
      std::string message;
      if (is_printable_ascii(c)) {
        message = "character '" + std::string(1, c) + "'";
      } else {
        message = static_cast<unsigned char>(c) >= 0x80 ? "non-ASCII byte 0x" : "control character 0x";
        append_hex_byte(message, c);
      }
      return invalid(message + " at byte " + std::to_string(offset + i) + " is not allowed (segment " +
                     std::to_string(number) + "; segments use " + std::string(allowed_characters) + ")");
    }
  }
  return std::nullopt;
}

std::string empty_segment_message(std::size_t number, std::size_t offset, std::size_t total_bytes) {
  std::string message = "segment " + std::to_string(number) + " is empty";
  if (offset == 0) return message + " (the topic starts with '.')";
  if (offset == total_bytes) return message + " (the topic ends with '.')";
  return message + " ('..' at byte " + std::to_string(offset - 1) + ")";
}

std::optional<error> validate(std::string_view text, grammar g) {
  if (text.empty()) return invalid("a " + std::string(noun(g)) + " cannot be empty");
  if (text.size() > max_bytes) {
    return invalid("a " + std::string(noun(g)) + " is longer than " + std::to_string(max_bytes) + " bytes (" +
                   std::to_string(text.size()) + " bytes)");
  }
  std::size_t count = 0;
  std::size_t offset = 0;
  for (;;) {
    const auto dot = text.find('.', offset);
    const bool is_last = dot == std::string_view::npos;
    const auto end = is_last ? text.size() : dot;
    const auto segment = text.substr(offset, end - offset);
    ++count;
    if (g == grammar::pattern && count > max_segments) {
      return invalid("a topic pattern has more than " + std::to_string(max_segments) + " segments");
    }
    if (segment.empty()) return invalid(empty_segment_message(count, offset, text.size()));
    if (auto e = segment_error(g, segment, count, offset, is_last)) return e;
    if (is_last) break;
    offset = dot + 1;
  }
  if (g == grammar::name && count != name_segments) {
    return invalid("a topic name has exactly " + std::to_string(name_segments) +
                   " segments {stream}.{key}.{event} (found " + std::to_string(count) + ")");
  }
  return std::nullopt;
}

// For a pattern that obeys the grammar: a name has exactly three segments, so a pattern without
// '>' needs three, and one ending in '>' (one or more segments) at most three in all.
std::optional<error> match_rule_error(std::string_view pattern) {
  const std::size_t segments = static_cast<std::size_t>(std::count(pattern.begin(), pattern.end(), '.')) + 1;
  const bool tail = pattern == ">" || pattern.ends_with(".>");
  if (tail ? segments <= name_segments : segments == name_segments) return std::nullopt;
  return invalid("a topic pattern can never match a topic name: names have exactly " + std::to_string(name_segments) +
                 " segments {stream}.{key}.{event} (the pattern " + (tail ? "needs at least " : "has ") +
                 std::to_string(segments) + ")");
}

// The names a pattern can match, one entry per name segment: a literal or '*' (a final '>'
// stands for '*' in each position it reaches). False when the pattern can match no name.
using name_shape = std::array<std::string_view, name_segments>;

bool shape_of(std::string_view pattern, name_shape& shape) noexcept {
  segment_reader r(pattern);
  std::string_view segment;
  std::size_t count = 0;
  while (r.next(segment)) {
    if (segment == ">") {
      if (count == name_segments || r.next(segment)) return false;
      while (count < name_segments) shape[count++] = "*";
      return true;
    }
    if (count == name_segments) return false;
    shape[count++] = segment;
  }
  return count == name_segments;
}

}  // namespace

std::optional<error> validate_name(std::string_view name) { return validate(name, grammar::name); }

std::optional<error> validate_pattern_grammar(std::string_view pattern) { return validate(pattern, grammar::pattern); }

std::optional<error> validate_pattern(std::string_view pattern) {
  if (auto e = validate(pattern, grammar::pattern)) return e;
  return match_rule_error(pattern);
}

bool matches(std::string_view pattern, std::string_view name) noexcept {
  segment_reader p(pattern);
  segment_reader n(name);
  std::string_view ps;
  std::string_view ns;
  while (p.next(ps)) {
    if (ps == ">") return n.next(ns);  // '>' needs at least one more segment
    if (!n.next(ns)) return false;
    if (ps != "*" && ps != ns) return false;
  }
  return !n.next(ns);
}

// Over three-segment names, each pattern is one literal or '*' per position, and `outer` covers
// `inner` when every position of outer is '*' or inner's literal. Judged over the names that
// exist: if names ever had another shape, this (and tests/fuzz/topic.cpp's model) would change.
bool contains(std::string_view outer, std::string_view inner) noexcept {
  name_shape o;
  name_shape i;
  if (!shape_of(outer, o) || !shape_of(inner, i)) return false;
  for (std::size_t k = 0; k < name_segments; ++k) {
    if (o[k] != "*" && o[k] != i[k]) return false;
  }
  return true;
}

}  // namespace globemeet::core::topic
