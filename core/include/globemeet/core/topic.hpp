// Topic names and patterns (docs/protocol.md section 4): validation with precise errors, and
// matching of one pattern against one name. NATS convention: `*` one segment, `>` the rest.
#pragma once
#include <cstddef>
#include <optional>
#include <string_view>

#include "globemeet/core/result.hpp"

namespace globemeet::core::topic {

inline constexpr std::size_t max_bytes = 255;
inline constexpr std::size_t max_segments = 16;
inline constexpr std::size_t max_segment_bytes = 64;
inline constexpr std::size_t name_segments = 3;  // {stream}.{key}.{event}

// nullopt when valid; otherwise an error with code "invalid_topic" and a message naming the rule.
// A name has exactly three segments and no wildcards; a pattern may use `*` and a final `>`.
std::optional<error> validate_name(std::string_view name);
std::optional<error> validate_pattern(std::string_view pattern);

// True when `pattern` (assumed valid) matches `name` (assumed valid).
bool matches(std::string_view pattern, std::string_view name) noexcept;

// True when every name `inner` can match is also matched by `outer` (both valid patterns).
// Used to check a requested pattern against the token's permitted patterns.
bool contains(std::string_view outer, std::string_view inner) noexcept;

}  // namespace globemeet::core::topic
