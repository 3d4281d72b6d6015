#include "strict_json.hpp"

#include <string>

#include <boost/json/parse.hpp>

#include "globemeet/core/codec.hpp"

namespace globemeet::server::auth::detail {

core::result<boost::json::object> parse_strict_object(std::string_view text, std::size_t max_bytes) {
  // The codec decides strictness (one definition for frames, tokens and configuration); the
  // parse that follows only builds the value it has already accepted.
  if (auto refusal = core::codec::check_strict_json(text, max_bytes)) return std::move(*refusal);
  boost::json::parse_options options;
  options.max_depth = 64;
  boost::json::error_code ec;
  boost::json::value value =
      boost::json::parse(boost::json::string_view(text.data(), text.size()), ec, {}, options);
  if (ec) return core::error{"bad_json", "cannot parse: " + ec.message()};
  if (!value.is_object()) return core::error{"bad_json", "expected a JSON object at the top level"};
  return std::move(value.as_object());
}

}  // namespace globemeet::server::auth::detail
