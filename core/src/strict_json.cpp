#include "strict_json.hpp"

#include "globemeet/core/strict_json.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <utility>
#include <vector>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_stack.hpp>

namespace globemeet::core::strict_json {
namespace {

using boost::json::error_code;
using json_string_view = boost::json::string_view;

constexpr std::size_t no_position = static_cast<std::size_t>(-1);

// Offset of the first byte that is not part of well-formed UTF-8 (RFC 3629: no overlong forms,
// no encoded surrogates, nothing above U+10FFFF), or no_position.
std::size_t find_invalid_utf8(std::string_view text) noexcept {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t size = text.size();
  std::size_t i = 0;
  while (i < size) {
    // Frames are mostly ASCII: skip it eight bytes at a time.
    while (i + 8 <= size) {
      std::uint64_t word;
      std::memcpy(&word, bytes + i, sizeof word);
      if (word & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= size) break;
    const unsigned lead = bytes[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    unsigned low = 0x80, high = 0xBF;  // allowed range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) length = 2;
    else if (lead == 0xE0) { length = 3; low = 0xA0; }
    else if (lead >= 0xE1 && lead <= 0xEC) length = 3;
    else if (lead == 0xED) { length = 3; high = 0x9F; }
    else if (lead >= 0xEE && lead <= 0xEF) length = 3;
    else if (lead == 0xF0) { length = 4; low = 0x90; }
    else if (lead >= 0xF1 && lead <= 0xF3) length = 4;
    else if (lead == 0xF4) { length = 4; high = 0x8F; }
    else return i;
    if (size - i < length) return i;
    if (bytes[i + 1] < low || bytes[i + 1] > high) return i;
    for (std::size_t k = 2; k < length; ++k)
      if ((bytes[i + k] & 0xC0) != 0x80) return i;
    i += length;
  }
  return no_position;
}

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The UTF-16 unit of the \uXXXX escape at `at`, or -1.
long escaped_unit(std::string_view text, std::size_t at) noexcept {
  if (at > text.size() || text.size() - at < 6 || text[at] != '\\' || text[at + 1] != 'u') return -1;
  long unit = 0;
  for (std::size_t k = at + 2; k < at + 6; ++k) {
    const int digit = hex_digit(text[k]);
    if (digit < 0) return -1;
    unit = unit * 16 + digit;
  }
  return unit;
}

// Offset of a \u escape of a surrogate that is not half of a pair, or no_position. Boost.JSON
// refuses those too, sometimes as a plain syntax error: this finds them to say so.
std::size_t find_lone_surrogate(std::string_view text) noexcept {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') continue;
    const long unit = escaped_unit(text, i);
    if (unit < 0) {
      ++i;  // some other escape: skip the escaped character
      continue;
    }
    if (unit >= 0xDC00 && unit <= 0xDFFF) return i;
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      const long next = escaped_unit(text, i + 6);
      if (next < 0xDC00 || next > 0xDFFF) return i;
      i += 6;
    }
    i += 5;
  }
  return no_position;
}

// basic_parser handler that builds the DOM through Boost's value_stack (as boost::json::parser
// does) while seeing every member name, to refuse a repeated one, and every number, to refuse a
// non-finite one. Member names are kept in one arena and checked when their object closes.
class dom_builder {
 public:
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  dom_builder(boost::json::storage_ptr sp, unsigned char* temp, std::size_t temp_size,
              std::vector<std::string_view>* number_texts)
      : values_(boost::json::storage_ptr(), temp, temp_size), number_texts_(number_texts) {
    values_.reset(std::move(sp));
    levels_.reserve(max_depth);
  }

  const std::string& refusal() const noexcept { return refusal_; }
  boost::json::value release() noexcept { return values_.release(); }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }

  bool on_object_begin(error_code&) {
    levels_.push_back(level{true, keys_.size(), 0});
    return true;
  }
  bool on_object_end(std::size_t n, error_code& ec) {
    if (!check_unique_keys(ec)) return false;
    key_bytes_.resize(key_bytes_start());
    keys_.resize(levels_.back().first_key);
    levels_.pop_back();
    values_.push_object(n);
    return counted();
  }

  bool on_array_begin(error_code& ec) {
    if (levels_.empty()) return refuse_top_level(ec, "array");
    levels_.push_back(level{false, keys_.size(), 0});
    return true;
  }
  bool on_array_end(std::size_t n, error_code&) {
    levels_.pop_back();
    values_.push_array(n);
    return counted();
  }

  bool on_key_part(json_string_view s, std::size_t, error_code&) {
    append_key(s);
    values_.push_chars(s);
    return true;
  }
  bool on_key(json_string_view s, std::size_t, error_code&) {
    append_key(s);
    key_in_progress_ = false;
    values_.push_key(s);
    return true;
  }

  bool on_string_part(json_string_view s, std::size_t, error_code& ec) {
    if (levels_.empty()) return refuse_top_level(ec, "string");
    values_.push_chars(s);
    return true;
  }
  bool on_string(json_string_view s, std::size_t, error_code& ec) {
    if (levels_.empty()) return refuse_top_level(ec, "string");
    values_.push_string(s);
    return counted();
  }

  bool on_number_part(json_string_view s, error_code&) {
    number_text_.append(s.data(), s.size());
    return true;
  }
  // The text `s` of a number is whole and inside the input: parse_object writes all of it in
  // one write_some with more=false, so the parser never splits a number into parts.
  bool on_int64(std::int64_t i, json_string_view s, error_code& ec) {
    keep_number_text(s);
    number_text_.clear();
    if (levels_.empty()) return refuse_top_level(ec, "number");
    values_.push_int64(i);
    return counted();
  }
  bool on_uint64(std::uint64_t u, json_string_view s, error_code& ec) {
    keep_number_text(s);
    number_text_.clear();
    if (levels_.empty()) return refuse_top_level(ec, "number");
    values_.push_uint64(u);
    return counted();
  }
  // Boost 1.81 converts decimals to double approximately; strtod rounds correctly, so a
  // number reads as the same double here, in the wasm build and in JavaScript. (The core never
  // sets a locale, so strtod's decimal point is '.'.)
  bool on_double(double, json_string_view s, error_code& ec) {
    keep_number_text(s);
    number_text_.append(s.data(), s.size());
    const double d = std::strtod(number_text_.c_str(), nullptr);
    number_text_.clear();
    if (!std::isfinite(d))
      return refuse(ec, describe_next_value() + ": number out of range (not finite)");
    if (levels_.empty()) return refuse_top_level(ec, "number");
    values_.push_double(d);
    return counted();
  }
  bool on_bool(bool b, error_code& ec) {
    if (levels_.empty()) return refuse_top_level(ec, "boolean");
    values_.push_bool(b);
    return counted();
  }
  bool on_null(error_code& ec) {
    if (levels_.empty()) return refuse_top_level(ec, "null");
    values_.push_null();
    return counted();
  }

  // Comments are off in the parse options; these only satisfy the handler concept.
  bool on_comment_part(json_string_view, error_code&) { return true; }
  bool on_comment(json_string_view, error_code&) { return true; }

 private:
  struct level {
    bool is_object;
    std::size_t first_key;  // index in keys_ of this object's first member name
    std::size_t count;      // values completed so far at this level
  };
  struct key_span {
    std::size_t offset, size;  // in key_bytes_
  };

  bool refuse(error_code& ec, std::string message) {
    refusal_ = std::move(message);
    ec = boost::json::error::exception;  // any failure code: refusal_ carries the reason
    return false;
  }
  bool refuse_top_level(error_code& ec, std::string_view kind) {
    return refuse(ec, "expected a JSON object at the top level, got " + std::string(kind));
  }

  void keep_number_text(json_string_view s) {
    if (number_texts_ != nullptr) number_texts_->emplace_back(s.data(), s.size());
  }

  // A value is complete at the current level.
  bool counted() noexcept {
    if (!levels_.empty()) ++levels_.back().count;
    return true;
  }

  void append_key(json_string_view s) {
    if (!key_in_progress_) {
      keys_.push_back(key_span{key_bytes_.size(), 0});
      key_in_progress_ = true;
    }
    key_bytes_.append(s.data(), s.size());
    keys_.back().size += s.size();
  }

  std::string_view key(std::size_t index) const noexcept {
    return std::string_view(key_bytes_).substr(keys_[index].offset, keys_[index].size);
  }

  std::size_t key_bytes_start() const noexcept {
    const std::size_t first = levels_.back().first_key;
    return first < keys_.size() ? keys_[first].offset : key_bytes_.size();
  }

  // Pairwise for small objects (most frames), sorted for large ones so that a big object
  // cannot make this quadratic.
  bool check_unique_keys(error_code& ec) {
    const std::size_t first = levels_.back().first_key;
    const std::size_t n = keys_.size() - first;
    constexpr std::size_t pairwise_limit = 16;
    if (n <= pairwise_limit) {
      for (std::size_t i = first + 1; i < keys_.size(); ++i)
        for (std::size_t j = first; j < i; ++j)
          if (key(i) == key(j)) return refuse_duplicate(ec, key(i));
      return true;
    }
    std::vector<std::string_view> sorted;
    sorted.reserve(n);
    for (std::size_t i = first; i < keys_.size(); ++i) sorted.push_back(key(i));
    std::sort(sorted.begin(), sorted.end());
    const auto repeated = std::adjacent_find(sorted.begin(), sorted.end());
    if (repeated != sorted.end()) return refuse_duplicate(ec, *repeated);
    return true;
  }

  bool refuse_duplicate(error_code& ec, std::string_view name) {
    const std::string where =
        levels_.size() == 1 ? std::string("the top-level object") : "member " + path_of(levels_.size() - 1);
    return refuse(ec, "duplicate member name '" + excerpt(name) + "' in " + where);
  }

  // The member name or array index under which levels_[depth] (or the next value) sits.
  std::string child_path(const std::string& parent_path, std::size_t parent_depth) const {
    const level& parent = levels_[parent_depth];
    if (!parent.is_object) return member_path_index(parent_path, parent.count);
    const std::size_t last_key =
        parent_depth + 1 < levels_.size() ? levels_[parent_depth + 1].first_key - 1 : keys_.size() - 1;
    return member_path_key(parent_path, key(last_key));
  }

  // The path of the container open at levels_[depth] (empty for the top level).
  std::string path_of(std::size_t depth) const {
    std::string path;
    for (std::size_t i = 1; i <= depth; ++i) path = child_path(path, i - 1);
    return path;
  }

  std::string describe_next_value() const {
    if (levels_.empty()) return "the top-level value";
    return "member " + child_path(path_of(levels_.size() - 1), levels_.size() - 1);
  }

  boost::json::value_stack values_;
  std::vector<level> levels_;
  std::vector<key_span> keys_;
  std::string key_bytes_;
  bool key_in_progress_ = false;
  std::string number_text_;
  std::vector<std::string_view>* number_texts_;
  std::string refusal_;
};

std::string describe_parser_error(const error_code& ec, std::string_view text) {
  if (ec == boost::json::error::too_deep)
    return "nested deeper than " + std::to_string(max_depth) + " levels";
  if (const std::size_t at = find_lone_surrogate(text); at != no_position)
    return "lone UTF-16 surrogate " + std::string(text.substr(at, 6)) + " at byte " + std::to_string(at);
  if (ec == boost::json::error::incomplete) return "unexpected end of input";
  if (ec == boost::json::error::exponent_overflow) return "number out of range (exponent too large)";
  return "invalid JSON (" + ec.message() + ")";
}

error bad_json(std::string message) { return error{"bad_json", std::move(message)}; }

}  // namespace

result<boost::json::object> parse_object(std::string_view text, std::size_t max_bytes,
                                         boost::json::storage_ptr sp) {
  return parse_object(text, max_bytes, std::move(sp), nullptr);
}

result<boost::json::object> parse_object(std::string_view text, std::size_t max_bytes, boost::json::storage_ptr sp,
                                         std::vector<std::string_view>* number_texts) {
  if (text.size() > max_bytes)
    return bad_json("input of " + std::to_string(text.size()) + " bytes is larger than the limit of " +
                    std::to_string(max_bytes) + " bytes");
  if (text.substr(0, 3) == "\xEF\xBB\xBF") return bad_json("byte order mark at the start is not allowed");
  if (const std::size_t bad = find_invalid_utf8(text); bad != no_position)
    return bad_json("invalid UTF-8 at byte " + std::to_string(bad));

  try {
    boost::json::parse_options options;
    options.max_depth = max_depth;
    unsigned char temp[2048];  // value_stack's scratch space, so small frames do not allocate
    boost::json::basic_parser<dom_builder> parser(options, std::move(sp), temp, sizeof temp, number_texts);
    error_code ec;
    const std::size_t consumed = parser.write_some(false, text.data(), text.size(), ec);
    if (ec) {
      const std::string& refusal = parser.handler().refusal();
      return bad_json(refusal.empty() ? describe_parser_error(ec, text) : refusal);
    }
    if (consumed != text.size())
      return bad_json("unexpected data after the JSON object at byte " + std::to_string(consumed));
    return std::move(parser.handler().release().get_object());
  } catch (const std::exception& e) {
    return bad_json(std::string("cannot parse: ") + e.what());
  }
}

std::string_view kind_name(const boost::json::value& v) noexcept {
  switch (v.kind()) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: return "number";
    case boost::json::kind::string: return "string";
    case boost::json::kind::array: return "array";
    case boost::json::kind::object: return "object";
  }
  return "value";
}

std::string member_path_key(std::string_view parent, std::string_view key) {
  std::string path(parent);
  if (!path.empty()) path.push_back('.');
  path.push_back('\'');
  path += excerpt(key);
  path.push_back('\'');
  return path;
}

std::string member_path_index(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

std::string excerpt(std::string_view s) {
  constexpr std::size_t limit = 32;
  if (s.size() <= limit) return std::string(s);
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // not mid code point
  return std::string(s.substr(0, cut)) + "...";
}

}  // namespace globemeet::core::strict_json
