#include "strict_json.hpp"

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>

namespace globemeet::server::auth::detail {
namespace {

namespace json = boost::json;

// A basic_parser handler that builds nothing: it only remembers the member names of each open
// object, to find duplicates, and refuses non-finite numbers.
struct duplicate_finder {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  std::vector<std::set<std::string>> open_objects;
  std::string key;
  std::string problem;  // set when the handler stops the parse

  bool fail(json::error_code& ec, std::string why) {
    problem = std::move(why);
    ec = json::make_error_code(json::error::extra_data);  // any code: `problem` tells the story
    return false;
  }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t, json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) {
    open_objects.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) {
    open_objects.pop_back();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_key_part(json::string_view part, std::size_t, json::error_code&) {
    key.append(part.data(), part.size());
    return true;
  }
  bool on_key(json::string_view part, std::size_t, json::error_code& ec) {
    key.append(part.data(), part.size());
    const bool inserted = open_objects.back().insert(key).second;
    std::string name = std::move(key);
    key.clear();
    if (!inserted) return fail(ec, "duplicate member '" + name + "'");
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, json::error_code&) { return true; }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return true; }
  bool on_double(double d, json::string_view, json::error_code& ec) {
    if (!std::isfinite(d)) return fail(ec, "number out of range");
    return true;
  }
  bool on_bool(bool, json::error_code&) { return true; }
  bool on_null(json::error_code&) { return true; }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

core::error bad_json(std::string message) { return {"bad_json", std::move(message)}; }

// docs/protocol.md section 2: nesting deeper than 64 is refused.
json::parse_options strict_options() {
  json::parse_options options;
  options.max_depth = 64;
  return options;
}

}  // namespace

core::result<json::object> parse_strict_object(std::string_view text, std::size_t max_bytes) {
  if (text.size() > max_bytes)
    return bad_json("larger than " + std::to_string(max_bytes) + " bytes");
  json::basic_parser<duplicate_finder> checker{strict_options()};
  json::error_code ec;
  checker.write_some(false, text.data(), text.size(), ec);
  if (ec) {
    if (!checker.handler().problem.empty()) return bad_json(checker.handler().problem);
    return bad_json("not JSON: " + ec.message());
  }
  json::value value = json::parse(json::string_view(text.data(), text.size()), ec, {}, strict_options());
  if (ec) return bad_json("not JSON: " + ec.message());
  if (!value.is_object()) return bad_json("not a JSON object");
  return std::move(value.as_object());
}

}  // namespace globemeet::server::auth::detail
