#include "json_writer.hpp"

#include <array>
#include <charconv>
#include <cstdio>
#include <cstdlib>

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

// ECMAScript's Number::toString layout (what JSON.stringify writes), given the significant
// digits and the decimal exponent of the first one: plain notation from 1e-7 up to 1e21,
// exponent notation outside.
void format_shortest(std::string& out, bool negative, const std::string& digits, int exponent) {
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;  // the value is 0.DIGITS times 10^n
  if (negative) out.push_back('-');
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<std::size_t>(n));
    out.push_back('.');
    out.append(digits, static_cast<std::size_t>(n));
  } else if (-6 < n && n <= 0) {
    out.append("0.");
    out.append(static_cast<std::size_t>(-n), '0');
    out += digits;
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out.append(digits, 1);
    }
    out.push_back('e');
    out.push_back(n - 1 < 0 ? '-' : '+');
    out += std::to_string(n - 1 < 0 ? 1 - n : n - 1);
  }
}

}  // namespace

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
  if (d == 0.0) {  // both zeros, as JSON.stringify writes them
    out.push_back('0');
    return;
  }
  // The fewest significant digits that read back as `d`. (std::to_chars for doubles is not in
  // every standard library we build with; snprintf and strtod are, and both round correctly.)
  char text[40];
  for (int precision = 0; precision <= 16; ++precision) {
    std::snprintf(text, sizeof text, "%.*e", precision, d);
    if (std::strtod(text, nullptr) == d) break;
  }
  // text is [-]D[.DDD]e(+|-)XX: collect the digits and the exponent.
  const char* p = text;
  const bool negative = *p == '-';
  if (negative) ++p;
  std::string digits;
  for (; *p != 'e'; ++p)
    if (*p != '.') digits.push_back(*p);
  const int exponent = std::atoi(p + 1);
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  format_shortest(out, negative, digits, exponent);
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
