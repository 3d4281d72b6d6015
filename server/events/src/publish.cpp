#include "globemeet/server/events/publish.hpp"

#include <array>
#include <boost/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "globemeet/core/codec.hpp"
#include "globemeet/core/event_id.hpp"
#include "globemeet/core/strict_json.hpp"
#include "quoted_input.hpp"
#include "globemeet/core/topic.hpp"
#include "globemeet/server/events/catalogue.hpp"
#include "globemeet/server/events/time_format.hpp"

namespace globemeet::server::events {
namespace {

// Envelope attributes the server stamps; a publisher setting one is told so rather than
// being told the member is unknown.
constexpr std::array<std::string_view, 8> server_stamped{"id",     "time",        "source",          "topic",
                                                         "tenant", "specversion", "datacontenttype", "op"};

std::string source_of(std::string_view tenant, std::string_view stream, std::string_view key) {
  return "/tenants/" + std::string(tenant) + "/" + std::string(stream) + "s/" + std::string(key);
}

core::error fail(std::string_view code, std::string message) { return {std::string(code), std::move(message)}; }
core::error invalid(std::string message) { return fail(invalid_event_code, std::move(message)); }

bool is_segment_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool is_server_stamped(std::string_view member) noexcept {
  for (std::string_view stamped : server_stamped) {
    if (member == stamped) return true;
  }
  return false;
}

// The body's numbers exactly as the publisher wrote them, in document order (the strict parse
// lists them). A double read back and written again could change a number's text, and Boost's
// serializer writes bare NaN and Infinity; the text as written is strict JSON already.
// In a body that passes validation only `data` objects hold numbers (type and subject are
// strings, no other member is allowed), so each event's data takes the next ones in turn.
class number_texts {
 public:
  explicit number_texts(const std::vector<std::string_view>& texts) noexcept : texts_(texts) {}

  std::string_view next() {
    if (next_ == texts_.size()) throw std::logic_error("publish: more numbers in the data than in the body");
    return texts_[next_++];
  }

 private:
  const std::vector<std::string_view>& texts_;
  std::size_t next_ = 0;
};

// True for the bytes a JSON string must escape: quote, backslash and control characters.
constexpr std::array<bool, 256> make_escaped_bytes() {
  std::array<bool, 256> table{};
  for (std::size_t c = 0; c < 0x20; ++c) table[c] = true;
  table['"'] = true;
  table['\\'] = true;
  return table;
}
constexpr std::array<bool, 256> escaped_bytes = make_escaped_bytes();

// `s` as a JSON string: quote, backslash and control characters escaped (as core::codec writes
// them), every other byte (valid UTF-8, as the strict parse checked) copied.
void append_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run_start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (!escaped_bytes[c]) continue;
    out.append(s.data() + run_start, i - run_start);
    run_start = i + 1;
    out.push_back('\\');
    switch (c) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '\b': out.push_back('b'); break;
      case '\f': out.push_back('f'); break;
      case '\n': out.push_back('n'); break;
      case '\r': out.push_back('r'); break;
      case '\t': out.push_back('t'); break;
      default:
        out.append("u00");
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0xF]);
    }
  }
  out.append(s.data() + run_start, s.size() - run_start);
  out.push_back('"');
}

// `value` as compact JSON, members in the publisher's order, numbers as the publisher wrote them.
void append_value(std::string& out, const boost::json::value& value, number_texts& numbers) {
  switch (value.kind()) {
    case boost::json::kind::null: out.append("null"); return;
    case boost::json::kind::bool_: out.append(value.get_bool() ? "true" : "false"); return;
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: out.append(numbers.next()); return;
    case boost::json::kind::string: append_string(out, value.get_string()); return;
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const boost::json::value& item : value.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        append_value(out, item, numbers);
      }
      out.push_back(']');
      return;
    }
    case boost::json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& member : value.get_object()) {
        if (!first) out.push_back(',');
        first = false;
        append_string(out, member.key());
        out.push_back(':');
        append_value(out, member.value(), numbers);
      }
      out.push_back('}');
      return;
    }
  }
}

// The frame of `event` must fit what a subscriber takes (core::codec::max_server_frame_bytes):
// a bigger one would be stored and sent, and every client would drop it as bad JSON. A body
// within its 1 MiB limit can still make a bigger frame, since the envelope is longer.
std::optional<core::error> check_frame_size(const pending_event& event, const std::string& prefix) {
  constexpr std::size_t limit = core::codec::max_server_frame_bytes;
  // The envelope's fixed text is some 220 bytes, and escaping makes a string at most 6 times
  // longer: below this bound the frame fits, without building it.
  const std::size_t strings =
      event.source.size() + event.type.size() + event.subject.size() + event.topic.size() + event.tenant.size();
  if (event.data_json.size() + 6 * strings + 512 <= limit) return std::nullopt;

  core::event envelope;  // the longest id and time the log can give it
  envelope.id = core::event_id{std::string(16, 'f'), core::max_seq}.str();
  envelope.source = event.source;
  envelope.type = event.type;
  envelope.subject = event.subject;
  envelope.time = format_rfc3339_ms(0);
  envelope.topic = event.topic;
  envelope.tenant = event.tenant;
  envelope.data_json = "{}";
  const std::size_t frame = core::codec::encode_event(envelope).size() - envelope.data_json.size() + event.data_json.size();
  if (frame <= limit) return std::nullopt;
  return fail(payload_too_large_code, prefix + "data: " + std::to_string(event.data_json.size()) +
                                          " bytes make an event frame of up to " + std::to_string(frame) +
                                          " bytes, more than the limit of " + std::to_string(limit));
}

// `object` is the event, or null when the value is not an object. `prefix` is "" for a single
// event and "events[3]." in a batch. `scratch` is reused from event to event, so that each
// data_json is one allocation of its own size.
core::result<pending_event> parse_event(const boost::json::object* object, const std::string& prefix,
                                        std::string_view tenant, number_texts& numbers, std::string& scratch) {
  if (object == nullptr) {
    const std::string where = prefix.empty() ? std::string("body") : prefix.substr(0, prefix.size() - 1);
    return invalid(where + ": expected an event object");
  }

  for (const auto& member : *object) {
    const std::string_view key = member.key();
    if (key == "type" || key == "subject" || key == "data") continue;
    if (is_server_stamped(key)) return invalid(prefix + std::string(key) + ": set by the server, not by publishers");
    return invalid(prefix + detail::clipped_input(key) + ": unknown member (an event has type, subject and data)");
  }

  const boost::json::value* type_value = object->if_contains("type");
  if (type_value == nullptr) return invalid(prefix + "type is required");
  if (!type_value->is_string()) return invalid(prefix + "type: expected a string");
  const std::string_view type_name = type_value->get_string();
  const event_type* type = find_event_type(type_name);
  if (type == nullptr) return invalid(prefix + "type: unknown event type " + detail::quoted_input(type_name));

  const boost::json::value* subject_value = object->if_contains("subject");
  if (subject_value == nullptr) return invalid(prefix + "subject is required");
  if (!subject_value->is_string()) return invalid(prefix + "subject: expected a string");
  const std::string_view subject = subject_value->get_string();
  if (!is_topic_segment(subject)) {
    return invalid(prefix + "subject: " + detail::quoted_input(subject) +
                   " is not a topic segment (1 to 64 characters of A-Z a-z 0-9 _ -)");
  }

  const boost::json::value* data_value = object->if_contains("data");
  if (data_value == nullptr) return invalid(prefix + "data is required");
  const boost::json::object* data = data_value->if_object();
  if (data == nullptr) return invalid(prefix + "data: expected an object");
  if (auto error = validate_data(*type, *data, prefix)) return *std::move(error);

  // The key segment routes the event; when the data names the same thing they must agree,
  // or subscribers of one queue would receive another queue's event.
  if (type->data_carries_key()) {
    const std::string_view key_value = data->at(type->key_field).get_string();
    if (key_value != subject) {
      return invalid(prefix + "subject: " + detail::quoted_input(subject) + " differs from data." +
                     std::string(type->key_field) + " " + detail::quoted_input(key_value));
    }
  }

  pending_event event;
  event.tenant = std::string(tenant);
  event.type = std::string(type_name);
  event.subject = std::string(subject);
  event.topic = std::string(type->stream) + "." + event.subject + "." + std::string(type->event);
  if (auto error = core::topic::validate_name(event.topic)) {
    return invalid(prefix + "subject: topic '" + event.topic + "': " + error->message);
  }
  event.source = source_of(event.tenant, type->stream, event.subject);
  scratch.clear();
  append_value(scratch, *data_value, numbers);
  event.data_json = scratch;
  if (auto error = check_frame_size(event, prefix)) return *std::move(error);
  return event;
}

}  // namespace

core::result<pending_event> pending_event_from_topic(std::string_view tenant, std::string_view topic,
                                                     std::string data_json) {
  const std::size_t first_dot = topic.find('.');
  const std::size_t last_dot = topic.rfind('.');
  if (first_dot == std::string_view::npos || last_dot == first_dot)
    return invalid("topic " + detail::quoted_input(topic) + " is not {stream}.{key}.{event}");
  const std::string_view stream = topic.substr(0, first_dot);
  const std::string_view key = topic.substr(first_dot + 1, last_dot - first_dot - 1);
  const std::string type_name = std::string(stream) + "." + std::string(topic.substr(last_dot + 1));
  const event_type* type = find_event_type(type_name);
  if (type == nullptr || !is_topic_segment(key)) return invalid("topic " + detail::quoted_input(topic) + " names no catalogue event");
  pending_event event;
  event.tenant = std::string(tenant);
  event.type = type_name;
  event.subject = std::string(key);
  event.topic = std::string(topic);
  event.source = source_of(tenant, type->stream, key);
  event.data_json = std::move(data_json);
  return event;
}

bool is_topic_segment(std::string_view text) noexcept {
  if (text.empty() || text.size() > core::topic::max_segment_bytes) return false;
  for (char c : text) {
    if (!is_segment_char(c)) return false;
  }
  return true;
}

core::result<std::vector<pending_event>> parse_publish(std::string_view body, std::string_view tenant) {
  if (body.size() > max_publish_body_bytes) {
    return fail(payload_too_large_code, "body: " + std::to_string(body.size()) + " bytes is more than the limit of " +
                                            std::to_string(max_publish_body_bytes));
  }
  // One parse, under the strict rules, into one arena: a batch of 1,000 events is some 10,000
  // JSON values, each of which the default allocator would take from malloc (5% of the
  // server's CPU at 20,000 events/s). Nothing parsed outlives this function: events copy what
  // they keep, and `texts` points into `body`.
  boost::json::monotonic_resource arena(body.size() * 2);
  std::vector<std::string_view> texts;
  core::result<boost::json::object> parsed =
      core::strict_json::parse_object(body, max_publish_body_bytes, &arena, &texts);
  if (!parsed) return fail(bad_json_code, parsed.err().message);
  const boost::json::object* object = &parsed.value();
  number_texts numbers(texts);
  std::string scratch;
  scratch.reserve(1024);

  std::vector<pending_event> events;
  const boost::json::value* batch_value = object->if_contains("events");
  if (batch_value == nullptr) {
    auto event = parse_event(object, "", tenant, numbers, scratch);
    if (!event) return event.err();
    events.push_back(std::move(event).value());
    return events;
  }

  if (object->size() != 1) {
    for (const auto& member : *object) {
      if (member.key() != "events") {
        return fail(bad_request_code, std::string(member.key()) + ": unknown member next to 'events'");
      }
    }
  }
  const boost::json::array* batch = batch_value->if_array();
  if (batch == nullptr) return fail(bad_request_code, "events: expected an array of events");
  if (batch->empty()) return fail(bad_request_code, "events: expected at least one event");
  if (batch->size() > max_publish_batch_events) {
    return fail(too_many_events_code, "events: " + std::to_string(batch->size()) +
                                          " events is more than the limit of " +
                                          std::to_string(max_publish_batch_events) + " per request");
  }
  events.reserve(batch->size());
  for (std::size_t i = 0; i < batch->size(); ++i) {
    auto event = parse_event((*batch)[i].if_object(), "events[" + std::to_string(i) + "].", tenant, numbers, scratch);
    if (!event) return event.err();
    events.push_back(std::move(event).value());
  }
  return events;
}

}  // namespace globemeet::server::events
