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
// A name has exactly three segments and no wildcards; a pattern may use `*` and a final `>`, and
// must be able to match a name: three segments, or at most three with a final `>`
// (`queue.support` and `a.b.c.d` can never match one and are refused, never silently kept).
std::optional<error> validate_name(std::string_view name);
std::optional<error> validate_pattern(std::string_view pattern);

// The grammar alone, without the rule that the pattern can match a name. For permitted patterns
// (a token's `perms`): one that can match no name grants nothing, and refusing the whole token
// for it would break tokens that worked before.
std::optional<error> validate_pattern_grammar(std::string_view pattern);

// True when `pattern` (assumed valid) matches `name` (assumed valid).
bool matches(std::string_view pattern, std::string_view name) noexcept;

// True when every topic name `inner` can match is also matched by `outer` (both valid patterns),
// judged over the names that exist: three segments. So `queue.support.*` contains
// `queue.support.>`, and `>` and `*.*.*` contain each other. False when either pattern can match
// no name. Used to check a requested pattern against the token's permitted patterns.
bool contains(std::string_view outer, std::string_view inner) noexcept;

}  // namespace globemeet::core::topic
