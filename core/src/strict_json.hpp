// The strict JSON of docs/protocol.md section 2, parsed into a Boost.JSON object. Boost.JSON
// alone is too lenient for the wire: it keeps one of two duplicate member names and reads
// 1e999 as infinity, so the parse goes through our own handler that refuses both.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>

#include "globemeet/core/result.hpp"

namespace globemeet::core::strict_json {

// Deeper nesting is refused; the top-level object is depth 1.
inline constexpr std::size_t max_depth = 64;

// One JSON object of at most `max_bytes` bytes: valid UTF-8 without a byte order mark, no
// duplicate member names at any depth, finite numbers only, no lone UTF-16 surrogate escapes,
// at most max_depth levels, nothing but whitespace after it. Otherwise an error with code
// "bad_json" saying what is wrong and where. Never throws. The object's memory comes from `sp`.
result<boost::json::object> parse_object(std::string_view text, std::size_t max_bytes,
                                         boost::json::storage_ptr sp);

// "null", "boolean", "number", "string", "array" or "object", for messages.
std::string_view kind_name(const boost::json::value& v) noexcept;

// Where a member is, for messages: `'topics'[2]`, `'data'.'queue_id'`.
std::string member_path_key(std::string_view parent, std::string_view key);
std::string member_path_index(std::string_view parent, std::size_t index);

// Up to 32 bytes of `s`, cut on a code point boundary, for quoting untrusted text in messages.
std::string excerpt(std::string_view s);

}  // namespace globemeet::core::strict_json
