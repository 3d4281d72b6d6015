// Event ids (core event_id) on arbitrary text. Checks: an accepted id is canonical (str() gives
// back exactly the input), within the documented ranges, and parse_event accepts it exactly
// when it names an event (seq >= 1).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "check.hpp"
#include "globemeet/core/event_id.hpp"

using globemeet::core::event_id;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto position = event_id::parse(text);
  const auto event = event_id::parse_event(text);
  if (!position) {
    FUZZ_CHECK(!event);
    return 0;
  }
  FUZZ_CHECK(position->str() == text);
  FUZZ_CHECK(!position->epoch.empty() && position->epoch.size() <= 16);
  for (const char c : position->epoch) FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  FUZZ_CHECK(position->seq <= globemeet::core::max_seq);
  FUZZ_CHECK(event.has_value() == position->names_event());
  if (event) FUZZ_CHECK(*event == *position);
  return 0;
}
