// Publish bodies (server/events parse_publish) against the catalogue, on arbitrary text.
// Checks: an accepted body was strict JSON; each event's topic is a valid topic name built from
// its type and subject, its source and tenant are the server's, its data is strict JSON that
// the catalogue accepts for its type, and rebuilding it from (tenant, topic, data), as a log
// that stores only those does, gives the same event; a refusal has a documented code.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "globemeet/core/codec.hpp"
#include "globemeet/core/strict_json.hpp"
#include "globemeet/core/topic.hpp"
#include "globemeet/server/events/catalogue.hpp"
#include "globemeet/server/events/publish.hpp"

namespace events = globemeet::server::events;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto parsed = events::parse_publish(body, "acme");
  if (!parsed) {
    const auto& code = parsed.err().code;
    FUZZ_CHECK(code == events::payload_too_large_code || code == events::bad_json_code ||
               code == events::too_many_events_code || code == events::bad_request_code ||
               code == events::invalid_event_code);
    return 0;
  }
  FUZZ_CHECK(!globemeet::core::codec::check_strict_json(body, events::max_publish_body_bytes));
  FUZZ_CHECK(!parsed->empty() && parsed->size() <= events::max_publish_batch_events);
  for (const auto& ev : parsed.value()) {
    FUZZ_CHECK(ev.tenant == "acme");
    FUZZ_CHECK(!globemeet::core::topic::validate_name(ev.topic));
    const auto* type = events::find_event_type(ev.type);
    FUZZ_CHECK(type != nullptr);
    FUZZ_CHECK(ev.topic == std::string(type->stream) + "." + ev.subject + "." + std::string(type->event));
    FUZZ_CHECK(ev.source == "/tenants/acme/" + std::string(type->stream) + "s/" + ev.subject);
    FUZZ_CHECK(!globemeet::core::codec::check_strict_json(ev.data_json, SIZE_MAX));
    const auto event_data = globemeet::core::strict_json::parse_object(ev.data_json, SIZE_MAX, {}, nullptr);
    FUZZ_CHECK(event_data.ok() && !events::validate(ev.type, event_data.value()));

    auto rebuilt = events::pending_event_from_topic("acme", ev.topic, ev.data_json);
    FUZZ_CHECK(rebuilt.ok());
    rebuilt->idempotency_id = ev.idempotency_id;
    FUZZ_CHECK(rebuilt.value() == ev);
  }
  return 0;
}
