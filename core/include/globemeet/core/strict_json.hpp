// The strict JSON parse of codec::check_strict_json for code that reads what it parsed (the
// server's publish bodies), so that the strict rules and the value read come from one parse.
// A second parser would disagree on the edges: Boost.JSON's own parse reads 0e309 as NaN, rounds
// 1.7976931348623158e308 up to infinity and stops at 32 levels.
#pragma once
#include <cstddef>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>

#include "globemeet/core/result.hpp"

namespace globemeet::core::strict_json {

// One JSON object of at most `max_bytes` bytes under the rules of docs/protocol.md section 2,
// with the errors of codec::check_strict_json. The object's memory comes from `sp`; decimals are
// read with correct rounding. When `number_texts` is not null, it receives the text of every
// number exactly as written, in document order (views into `text`): a double cannot tell
// `1.0` from `1` or keep 2.2250738585072011e-308's digits, the text can. Never throws.
result<boost::json::object> parse_object(std::string_view text, std::size_t max_bytes, boost::json::storage_ptr sp,
                                         std::vector<std::string_view>* number_texts);

}  // namespace globemeet::core::strict_json
