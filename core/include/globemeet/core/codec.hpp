// Encode and decode every frame of docs/protocol.md. Decoding is strict: bad JSON, duplicate
// member names, non-finite numbers, wrong types, oversize input and out-of-range values are
// refused with an error whose code is "bad_json" or "bad_frame" and whose message says what
// and where (for example "member 'topics'[2]: expected a string"). Boost.JSON stays inside the
// .cpp so that including this header is cheap.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "globemeet/core/frames.hpp"
#include "globemeet/core/result.hpp"

namespace globemeet::core::codec {

inline constexpr std::size_t max_client_frame_bytes = 65'536;
inline constexpr std::size_t max_server_frame_bytes = 1'048'576;

result<client_frame> decode_client(std::string_view text);
result<server_frame> decode_server(std::string_view text);

std::string encode(const client_frame& frame);
std::string encode(const server_frame& frame);
// The event frame text, serialized once and shared by every receiver (server hot path).
std::string encode_event(const event& ev);

// True when `text` is one strict JSON object (the rules above) of at most `max_bytes`;
// otherwise the error. Used for `data` objects and HTTP bodies as well as frames.
std::optional<error> check_strict_json(std::string_view text, std::size_t max_bytes);

// The `exp` claim of a JWT, read without verifying it (the client only schedules refreshes
// with it; the server verifies). nullopt when the token is not a JWT with a numeric `exp`.
std::optional<std::int64_t> jwt_expiry(std::string_view token);

}  // namespace globemeet::core::codec
