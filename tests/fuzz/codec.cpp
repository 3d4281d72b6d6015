// The frame codec (core codec) on arbitrary text, read as a client frame (what the server
// decodes) and as a server frame (what a client decodes). Checks: nothing that is not strict
// JSON decodes; a decoded frame encodes to text that is strict JSON and decodes to the same
// frame; encoding is stable (encode(decode(encode(f))) == encode(f)); jwt_expiry never throws.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "globemeet/core/codec.hpp"

namespace codec = globemeet::core::codec;

namespace {

template <class Decode>
void round_trip(std::string_view text, Decode decode, std::size_t max_bytes) {
  auto first = decode(text);
  if (!first) {
    FUZZ_CHECK(first.err().code == "bad_json" || first.err().code == "bad_frame");
    return;
  }
  FUZZ_CHECK(!codec::check_strict_json(text, max_bytes));
  const std::string encoded = codec::encode(first.value());
  FUZZ_CHECK(!codec::check_strict_json(encoded, SIZE_MAX));
  auto second = decode(encoded);
  FUZZ_CHECK(second.ok());
  FUZZ_CHECK(second.value() == first.value());
  FUZZ_CHECK(codec::encode(second.value()) == encoded);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  round_trip(text, [](std::string_view t) { return codec::decode_client(t); }, codec::max_client_frame_bytes);
  round_trip(text, [](std::string_view t) { return codec::decode_server(t); }, codec::max_server_frame_bytes);
  (void)codec::jwt_expiry(text);
  return 0;
}
