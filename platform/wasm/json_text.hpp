// Compact JSON text for the bridge's results. The bridge only writes small objects of strings,
// integers and booleans, so a few append functions are all it needs (no DOM, no Boost here).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace globemeet::wasm::json_text {

// `s` as a JSON string literal. Quotes, backslashes and control characters are escaped; every
// other byte is copied, so valid UTF-8 stays valid. (Invalid UTF-8 is copied as well; the
// JavaScript side's UTF8ToString reads it as U+FFFD. The core hands out valid UTF-8 only.)
inline void append_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.reserve(out.size() + s.size() + 2);
  out.push_back('"');
  std::size_t run = 0;  // start of the bytes not yet copied: plain runs go in with one append
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto byte = static_cast<unsigned char>(s[i]);
    if (byte >= 0x20 && byte != '"' && byte != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (byte) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out.push_back(hex[byte >> 4]);
        out.push_back(hex[byte & 0x0f]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

// Writes one JSON object member by member: `{"a":1,"b":"x"}`. Values that are themselves
// JSON text (an array, the event's `data`) go in through raw().
class object_writer {
 public:
  explicit object_writer(std::string& out) : out_(out) { out_.push_back('{'); }
  object_writer(const object_writer&) = delete;
  object_writer& operator=(const object_writer&) = delete;

  object_writer& string(std::string_view key, std::string_view value) {
    name(key);
    append_string(out_, value);
    return *this;
  }
  // An empty string becomes null: "none" reads better than "" on the JavaScript side.
  object_writer& string_or_null(std::string_view key, std::string_view value) {
    return value.empty() ? raw(key, "null") : string(key, value);
  }
  object_writer& integer(std::string_view key, std::int64_t value) {
    name(key);
    out_ += std::to_string(value);
    return *this;
  }
  object_writer& boolean(std::string_view key, bool value) { return raw(key, value ? "true" : "false"); }
  object_writer& raw(std::string_view key, std::string_view json) {
    name(key);
    out_ += json;
    return *this;
  }
  void close() { out_.push_back('}'); }

 private:
  void name(std::string_view key) {
    if (!first_) out_.push_back(',');
    first_ = false;
    append_string(out_, key);
    out_.push_back(':');
  }

  std::string& out_;
  bool first_ = true;
};

}  // namespace globemeet::wasm::json_text
