#include "json_writer.hpp"

#include <array>
#include <charconv>
#include <cmath>

#include <boost/json/value.hpp>

namespace globemeet::core::json_writer {
namespace {

// The escape for one byte, or 0 when the byte is copied as is. 'u' means \u00XX.
constexpr std::array<char, 256> make_escape_table() {
  std::array<char, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[static_cast<std::size_t>(c)] = 'u';
  table['\b'] = 'b';
  table['\f'] = 'f';
  table['\n'] = 'n';
  table['\r'] = 'r';
  table['\t'] = 't';
  table['"'] = '"';
  table['\\'] = '\\';
  return table;
}
constexpr std::array<char, 256> escape_table = make_escape_table();

char escape_for(char c) noexcept { return escape_table[static_cast<unsigned char>(c)]; }

template <class Number>
void append_number(std::string& out, Number n) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, n);
  (void)ec;  // 32 bytes hold any 64-bit integer and any shortest double
  out.append(buffer, end);
}

}  // namespace

std::size_t escaped_overhead(std::string_view s) noexcept {
  std::size_t extra = 2;  // the quotes
  for (char c : s) {
    const char e = escape_for(c);
    if (e == 'u') extra += 5;
    else if (e != 0) extra += 1;
  }
  return extra;
}

void append_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run_start = 0;  // copy unescaped runs in one append
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char e = escape_for(s[i]);
    if (e == 0) continue;
    out.append(s.data() + run_start, i - run_start);
    run_start = i + 1;
    out.push_back('\\');
    if (e == 'u') {
      const auto byte = static_cast<unsigned char>(s[i]);
      out.append("u00", 3);
      out.push_back(hex[byte >> 4]);
      out.push_back(hex[byte & 0x0f]);
    } else {
      out.push_back(e);
    }
  }
  out.append(s.data() + run_start, s.size() - run_start);
  out.push_back('"');
}

void append_integer(std::string& out, std::int64_t n) { append_number(out, n); }
void append_unsigned(std::string& out, std::uint64_t n) { append_number(out, n); }

void append_double(std::string& out, double d) {
  if (d == 0.0 && std::signbit(d)) {
    out.append("-0.0");  // "-0" would read back as the integer 0
    return;
  }
  append_number(out, d);
}

void append_value(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: out.append("null"); return;
    case boost::json::kind::bool_: out.append(v.get_bool() ? "true" : "false"); return;
    case boost::json::kind::int64: append_integer(out, v.get_int64()); return;
    case boost::json::kind::uint64: append_unsigned(out, v.get_uint64()); return;
    case boost::json::kind::double_: append_double(out, v.get_double()); return;
    case boost::json::kind::string: {
      const auto& s = v.get_string();
      append_string(out, std::string_view(s.data(), s.size()));
      return;
    }
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& element : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        append_value(out, element);
      }
      out.push_back(']');
      return;
    }
    case boost::json::kind::object: append_object(out, v.get_object()); return;
  }
}

void append_object(std::string& out, const boost::json::object& o) {
  out.push_back('{');
  bool first = true;
  for (const auto& member : o) {
    if (!first) out.push_back(',');
    first = false;
    append_string(out, std::string_view(member.key().data(), member.key().size()));
    out.push_back(':');
    append_value(out, member.value());
  }
  out.push_back('}');
}

}  // namespace globemeet::core::json_writer
