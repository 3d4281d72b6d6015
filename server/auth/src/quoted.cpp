#include "quoted.hpp"

namespace globemeet::server::auth::detail {

std::string quoted(std::string_view untrusted) {
  constexpr std::size_t max_shown = 64;
  std::string out = "'";
  for (std::size_t i = 0; i < untrusted.size() && i < max_shown; ++i) {
    const char c = untrusted[i];
    out.push_back(c >= 0x20 && c < 0x7F ? c : '?');
  }
  if (untrusted.size() > max_shown) out += "...";
  out.push_back('\'');
  return out;
}

}  // namespace globemeet::server::auth::detail
