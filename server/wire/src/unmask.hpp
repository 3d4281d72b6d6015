// XOR-unmasking of client payloads (RFC 6455 section 5.3), eight bytes per step.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

namespace globemeet::server::wire::detail {

// Unmasks `size` bytes in place. `offset` is how many bytes of the same frame's payload came
// before `data` (the mask is applied cyclically from the payload's first byte).
void unmask(std::uint8_t* data, std::size_t size, const std::array<std::uint8_t, 4>& mask,
            std::size_t offset) noexcept;

}  // namespace globemeet::server::wire::detail
