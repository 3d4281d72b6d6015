// The envelope's `time`: RFC 3339 UTC with milliseconds, from Unix milliseconds that the
// caller supplies (the log is given its clock; it never reads one).
#pragma once
#include <cstdint>
#include <string>

namespace globemeet::server::events {

// "2026-11-27T18:02:11.204Z". Defined for years 0000 to 9999; earlier or later times are
// clamped to the first or last millisecond of that range.
std::string format_rfc3339_ms(std::int64_t unix_ms);

}  // namespace globemeet::server::events
