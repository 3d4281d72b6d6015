// The event catalogue of docs/protocol.md section 3.1: the streams, the 20 event types, the
// fields each type's `data` carries and their JSON types. Publish validation and
// GET /v1/topics both read this one table, so the two cannot disagree.
#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "globemeet/core/result.hpp"

namespace boost::json {
class object;
}

namespace globemeet::server::events {

// Error code of every validation failure of a published event.
inline constexpr std::string_view invalid_event_code = "invalid_event";

enum class field_type {
  string,               // fields ending in _id, status, reason, channel, caller, disposition
  non_negative_number,  // depth, *_seconds, size_bytes, agents_available
  number,               // score fields
  string_array,         // queues
};

// How a field type is named in messages ("a non-negative number") and in GET /v1/topics
// ("non_negative_number").
std::string_view describe(field_type type) noexcept;
std::string_view json_name(field_type type) noexcept;

struct field_spec {
  std::string_view name;
  field_type type;
  bool required;
};

struct event_type {
  std::string_view type;       // "{stream}.{event}", e.g. "queue.depth-changed"
  std::string_view stream;     // "queue"
  std::string_view event;      // "depth-changed"
  std::string_view key_field;  // what the topic's key segment names: "queue_id" or "agent_id"
  std::span<const field_spec> fields;
  // Each event carries the whole current value of its topic, so only the newest matters: what
  // a lagging connection may conflate (docs/protocol.md sections 3.1 and 7.1).
  bool gauge = false;

  // "queue.{queue_id}.depth-changed"
  std::string topic_pattern() const;
  // The spec of `name` among this type's fields, or nullptr.
  const field_spec* field(std::string_view name) const noexcept;
  // True when the key field is one of this type's data fields (then `subject` must equal it).
  bool data_carries_key() const noexcept { return field(key_field) != nullptr; }
};

// The five streams in catalogue order: session, queue, agent, recording, qa.
std::span<const std::string_view> streams() noexcept;
// The 20 event types in catalogue order.
std::span<const event_type> catalogue() noexcept;
// The type named `type`, or nullptr when the catalogue has none.
const event_type* find_event_type(std::string_view type) noexcept;

// True when `topic` ("{stream}.{key}.{event}") is one of a gauge type.
bool is_gauge_topic(std::string_view topic) noexcept;

// Checks `data` against `type`: every required field present, every known field of its JSON
// type (a number field finite: a double holding NaN or an infinity is refused); extra fields are
// allowed (publish keeps them as written). nullopt when valid, otherwise an error with code
// "invalid_event" and a message such as "data.depth: expected a non-negative number",
// "data.agent_id is required for session.connected" or "unknown event type 'queue.exploded'".
std::optional<core::error> validate(std::string_view type, const boost::json::object& data);
// The same for a type already looked up; `path_prefix` is put before "data." in messages
// (publish passes "events[3].").
std::optional<core::error> validate_data(const event_type& type, const boost::json::object& data,
                                         std::string_view path_prefix = {});

// The catalogue as the JSON body of GET /v1/topics (built once, then shared):
// {"streams":[{"name":"queue","key_field":"queue_id"},...],
//  "types":[{"type":"queue.depth-changed","stream":"queue","event":"depth-changed",
//            "topic":"queue.{queue_id}.depth-changed","key_field":"queue_id","gauge":true,
//            "fields":[{"name":"queue_id","type":"string","required":true},...]},...]}
const std::string& to_json();

}  // namespace globemeet::server::events
