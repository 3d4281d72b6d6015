#include "globemeet/server/events/publish.hpp"

#include <array>
#include <boost/json.hpp>

#include "globemeet/core/codec.hpp"
#include "globemeet/core/topic.hpp"
#include "globemeet/server/events/catalogue.hpp"

namespace globemeet::server::events {
namespace {

// Envelope attributes the server stamps; a publisher setting one is told so rather than
// being told the member is unknown.
constexpr std::array<std::string_view, 8> server_stamped{"id",     "time",        "source",          "topic",
                                                         "tenant", "specversion", "datacontenttype", "op"};

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

// `prefix` is "" for a single event and "events[3]." in a batch.
core::result<pending_event> parse_event(const boost::json::value& value, const std::string& prefix,
                                        std::string_view tenant) {
  const std::string where = prefix.empty() ? std::string("body") : prefix.substr(0, prefix.size() - 1);
  const boost::json::object* object = value.if_object();
  if (object == nullptr) return invalid(where + ": expected an event object");

  for (const auto& member : *object) {
    const std::string_view key = member.key();
    if (key == "type" || key == "subject" || key == "data") continue;
    if (is_server_stamped(key)) return invalid(prefix + std::string(key) + ": set by the server, not by publishers");
    return invalid(prefix + std::string(key) + ": unknown member (an event has type, subject and data)");
  }

  const boost::json::value* type_value = object->if_contains("type");
  if (type_value == nullptr) return invalid(prefix + "type is required");
  if (!type_value->is_string()) return invalid(prefix + "type: expected a string");
  const std::string_view type_name = type_value->get_string();
  const event_type* type = find_event_type(type_name);
  if (type == nullptr) return invalid(prefix + "type: unknown event type '" + std::string(type_name) + "'");

  const boost::json::value* subject_value = object->if_contains("subject");
  if (subject_value == nullptr) return invalid(prefix + "subject is required");
  if (!subject_value->is_string()) return invalid(prefix + "subject: expected a string");
  const std::string_view subject = subject_value->get_string();
  if (!is_topic_segment(subject)) {
    return invalid(prefix + "subject: '" + std::string(subject) +
                   "' is not a topic segment (1 to 64 characters of A-Z a-z 0-9 _ -)");
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
      return invalid(prefix + "subject: '" + std::string(subject) + "' differs from data." +
                     std::string(type->key_field) + " '" + std::string(key_value) + "'");
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
  event.source = "/tenants/" + event.tenant + "/" + std::string(type->stream) + "s/" + event.subject;
  event.data_json = boost::json::serialize(*data);
  return event;
}

}  // namespace

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
  if (auto error = core::codec::check_strict_json(body, max_publish_body_bytes)) {
    return fail(bad_json_code, std::move(error->message));
  }
  // One arena for the parse: a batch of 1,000 events is some 10,000 JSON values, each of which
  // the default allocator would take from malloc (5% of the server's CPU at 20,000 events/s).
  // Nothing parsed outlives this function: events copy what they keep.
  boost::json::monotonic_resource arena(body.size() * 2);
  boost::json::error_code ec;
  const boost::json::value root = boost::json::parse(body, ec, &arena);
  if (ec) return fail(bad_json_code, "body: " + ec.message());
  const boost::json::object* object = root.if_object();
  if (object == nullptr) return fail(bad_json_code, "body: expected a JSON object");

  std::vector<pending_event> events;
  const boost::json::value* batch_value = object->if_contains("events");
  if (batch_value == nullptr) {
    auto event = parse_event(root, "", tenant);
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
    auto event = parse_event((*batch)[i], "events[" + std::to_string(i) + "].", tenant);
    if (!event) return event.err();
    events.push_back(std::move(event).value());
  }
  return events;
}

}  // namespace globemeet::server::events
