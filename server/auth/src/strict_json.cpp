#include "strict_json.hpp"

#include "globemeet/core/strict_json.hpp"

namespace globemeet::server::auth::detail {

core::result<boost::json::object> parse_strict_object(std::string_view text, std::size_t max_bytes) {
  // One parse decides strictness and builds the value (one definition for frames, tokens and
  // configuration). A second parse by Boost.JSON would read some numbers the strict check
  // accepted differently: 0e309 as NaN, 1.7976931348623158e308 as infinity (found by
  // tests/fuzz/strict_json.cpp).
  return core::strict_json::parse_object(text, max_bytes, {}, nullptr);
}

}  // namespace globemeet::server::auth::detail
