// Comparison of secrets without a timing side channel.
#pragma once
#include <string_view>

namespace globemeet::server::auth {

// True when `a` and `b` are equal. The time taken depends only on the lengths, never on where
// the first difference is (a length mismatch returns false at once; lengths are not secret).
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace globemeet::server::auth
