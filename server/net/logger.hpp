// One JSON object per line on stdout: {"ts":"...","level":"info","msg":"listening",...}.
// Lines are written whole under a mutex so threads never interleave them. Callers must never
// pass a token or a secret as a field.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace globemeet::server::net::logger {

using value = std::variant<std::string_view, std::int64_t, bool>;
struct field {
  std::string_view key;
  value val;
  field(std::string_view k, std::string_view v) : key(k), val(v) {}
  field(std::string_view k, const char* v) : key(k), val(std::string_view(v)) {}
  field(std::string_view k, const std::string& v) : key(k), val(std::string_view(v)) {}
  field(std::string_view k, bool v) : key(k), val(v) {}
  template <class Int, class = std::enable_if_t<std::is_integral_v<Int> && !std::is_same_v<Int, bool>>>
  field(std::string_view k, Int v) : key(k), val(static_cast<std::int64_t>(v)) {}
};

void info(std::string_view msg, std::initializer_list<field> fields = {});
void warn(std::string_view msg, std::initializer_list<field> fields = {});
void error(std::string_view msg, std::initializer_list<field> fields = {});

}  // namespace globemeet::server::net::logger
