#include "globemeet/server/auth/form_urlencoded.hpp"

#include <algorithm>
#include <set>

#include "quoted.hpp"

namespace globemeet::server::auth {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

core::error invalid_request(std::string message) { return {"invalid_request", std::move(message)}; }

}  // namespace

std::optional<std::string> form_decode_component(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

core::result<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view body) {
  std::vector<std::pair<std::string, std::string>> out;
  std::set<std::string, std::less<>> seen;
  std::size_t start = 0;
  while (start <= body.size()) {
    const std::size_t end = std::min(body.find('&', start), body.size());
    const std::string_view piece = body.substr(start, end - start);
    start = end + 1;
    if (piece.empty()) continue;
    const std::size_t equals = piece.find('=');
    auto name = form_decode_component(piece.substr(0, equals));
    auto value = form_decode_component(equals == std::string_view::npos ? std::string_view()
                                                                         : piece.substr(equals + 1));
    if (!name || !value) return invalid_request("the body has a malformed percent-encoding");
    if (name->empty()) return invalid_request("the body has a parameter without a name");
    if (!seen.insert(*name).second)
      return invalid_request("parameter " + detail::quoted(*name) + " appears more than once");
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

}  // namespace globemeet::server::auth
