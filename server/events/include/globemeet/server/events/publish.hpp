// Parsing of a `POST /v1/events` body into events ready for the log. The body is one event
// object or {"events":[...]}; each event is {"type":..., "subject":..., "data":{...}}. Everything
// is validated before anything is accepted: one bad event refuses the whole body, and the error
// names it ("events[3].data.depth: expected a non-negative number"). The body is parsed once,
// under the strict rules of docs/protocol.md section 2, and each event's data is kept with its
// numbers as written, so that what is stored is always strict JSON that every client reads.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "globemeet/core/result.hpp"

namespace globemeet::server::events {

inline constexpr std::size_t max_publish_body_bytes = 1'048'576;
inline constexpr std::size_t max_publish_batch_events = 1'000;

// Error codes of a refused body, with the HTTP status the server answers them with.
// 413: the body is over 1 MiB, or an event's frame would be (core::codec::max_server_frame_bytes,
// what a subscriber accepts; the envelope makes a frame longer than its data).
inline constexpr std::string_view payload_too_large_code = "payload_too_large";
inline constexpr std::string_view bad_json_code = "bad_json";                    // 400: not strict JSON
inline constexpr std::string_view too_many_events_code = "too_many_events";      // 413: batch > 1000
// 400 "bad_request": the body's shape is wrong (not an event, `events` not an array, empty batch).
inline constexpr std::string_view bad_request_code = "bad_request";
// 400 "invalid_event" (catalogue.hpp): an event breaks the catalogue or topic rules.

// A validated event, not yet stored: the log assigns `id` and `time`.
struct pending_event {
  std::string tenant;     // from the publisher's token
  std::string type;       // "queue.depth-changed"
  std::string subject;    // the key segment, "support"
  std::string topic;      // "queue.support.depth-changed"
  std::string source;     // "/tenants/acme/queues/support"
  std::string data_json;  // the data object, compact JSON: the publisher's members in order (extra
                          // fields passed through), every number's text exactly as sent
  // Names this event among retries of one publish (idempotency.hpp): empty unless the request
  // carried an Idempotency-Key. A log that already holds an event with this id within the
  // idempotency window answers with that event's id instead of storing it again.
  std::string idempotency_id = {};
  friend bool operator==(const pending_event&, const pending_event&) = default;
};

// All events of `body` for `tenant` (taken from the token by the caller), in body order, or the
// first error. Publishers may not set `time`, `id`, `source`, `topic`, `tenant` or any other
// member: the server stamps those.
core::result<std::vector<pending_event>> parse_publish(std::string_view body, std::string_view tenant);

// The event of `tenant` on `topic` ("{stream}.{key}.{event}") with `data_json`, its type and source
// derived as parse_publish derives them: how a log that stores only tenant, topic and data (the
// JetStream subject and payload) rebuilds an event. invalid_event when the topic's type is not in
// the catalogue.
core::result<pending_event> pending_event_from_topic(std::string_view tenant, std::string_view topic,
                                                     std::string data_json);

// True when `text` is one topic segment: 1 to 64 characters of A-Z a-z 0-9 _ -.
bool is_topic_segment(std::string_view text) noexcept;

}  // namespace globemeet::server::events
