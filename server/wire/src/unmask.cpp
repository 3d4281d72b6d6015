#include "unmask.hpp"

#include <cstring>

namespace globemeet::server::wire::detail {

void unmask(std::uint8_t* data, std::size_t size, const std::array<std::uint8_t, 4>& mask,
            std::size_t offset) noexcept {
  // The key as it lines up with data[0], repeated to eight bytes. Built and applied through
  // memcpy, so the byte order in memory is the same whatever the machine's endianness.
  std::array<std::uint8_t, 8> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = mask[(offset + i) % 4];
  std::uint64_t wide = 0;
  std::memcpy(&wide, key.data(), sizeof wide);

  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t chunk = 0;
    std::memcpy(&chunk, data + i, sizeof chunk);
    chunk ^= wide;
    std::memcpy(data + i, &chunk, sizeof chunk);
  }
  for (; i < size; ++i) data[i] = static_cast<std::uint8_t>(data[i] ^ key[i % 8]);
}

}  // namespace globemeet::server::wire::detail
