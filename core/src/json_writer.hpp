// Compact JSON text output shared by the codec's encoders. Appends to a caller-owned string so
// that the event hot path builds each frame in one reserved buffer, without a DOM.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

namespace globemeet::core::json_writer {

// `s` as a JSON string literal: quotes, backslashes and control characters escaped, every
// other byte copied. `s` must be valid UTF-8 (every string the codec decodes is).
void append_string(std::string& out, std::string_view s);

void append_integer(std::string& out, std::int64_t n);
void append_unsigned(std::string& out, std::uint64_t n);

// A finite double as JSON.stringify writes it: the fewest digits that read back as the same
// double, so that parsing the output and writing it again gives the same text.
void append_double(std::string& out, double d);

// Any JSON value, compact, members in their stored order. Used to keep an event's `data`
// as text (event::data_json).
void append_value(std::string& out, const boost::json::value& v);
void append_object(std::string& out, const boost::json::object& o);

}  // namespace globemeet::core::json_writer
