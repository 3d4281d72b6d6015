#include "globemeet/server/events/catalogue.hpp"

#include <array>
#include <boost/json.hpp>
#include <cmath>

#include "quoted_input.hpp"

namespace globemeet::server::events {
namespace {

constexpr field_spec required(std::string_view name, field_type type) { return {name, type, true}; }
constexpr field_spec optional(std::string_view name, field_type type) { return {name, type, false}; }

constexpr auto str = field_type::string;
constexpr auto nonneg = field_type::non_negative_number;
constexpr auto num = field_type::number;
constexpr auto strings = field_type::string_array;

// docs/protocol.md section 3.1, row by row: required fields first, then optional ones.
constexpr std::array session_created{required("session_id", str), required("queue_id", str),
                                     optional("caller", str), optional("channel", str)};
constexpr std::array session_connected{required("session_id", str), required("queue_id", str),
                                       required("agent_id", str), optional("wait_seconds", nonneg)};
constexpr std::array session_ended{required("session_id", str), required("queue_id", str),
                                   required("duration_seconds", nonneg), optional("agent_id", str),
                                   optional("disposition", str)};
constexpr std::array session_dropped{required("session_id", str), required("queue_id", str),
                                     optional("wait_seconds", nonneg), optional("reason", str)};
constexpr std::array session_transferred{required("session_id", str), required("queue_id", str),
                                         required("from_agent_id", str), required("to_queue_id", str),
                                         optional("to_agent_id", str)};
constexpr std::array queue_depth_changed{required("queue_id", str), required("depth", nonneg),
                                         required("longest_wait_seconds", nonneg),
                                         optional("agents_available", nonneg)};
constexpr std::array queue_abandoned{required("queue_id", str), required("session_id", str),
                                     required("wait_seconds", nonneg)};
constexpr std::array queue_max_wait_exceeded{required("queue_id", str), required("longest_wait_seconds", nonneg),
                                             required("threshold_seconds", nonneg)};
constexpr std::array agent_online{required("agent_id", str), optional("queues", strings)};
constexpr std::array agent_offline{required("agent_id", str), optional("reason", str)};
constexpr std::array agent_status_changed{required("agent_id", str), required("status", str),
                                          required("previous_status", str)};
constexpr std::array agent_busy{required("agent_id", str), required("session_id", str)};
constexpr std::array agent_break{required("agent_id", str), optional("reason", str),
                                 optional("expected_seconds", nonneg)};
constexpr std::array recording_started{required("recording_id", str), required("session_id", str)};
constexpr std::array recording_finished{required("recording_id", str), required("session_id", str),
                                        required("duration_seconds", nonneg), optional("size_bytes", nonneg)};
constexpr std::array recording_failed{required("recording_id", str), required("session_id", str),
                                      required("reason", str)};
constexpr std::array recording_deleted{required("recording_id", str), optional("reason", str)};
constexpr std::array qa_scorecard_saved{required("scorecard_id", str), required("session_id", str),
                                        required("agent_id", str), required("score", num)};
constexpr std::array qa_dispute_raised{required("scorecard_id", str), required("agent_id", str),
                                       required("reason", str)};
constexpr std::array qa_score_updated{required("scorecard_id", str), required("agent_id", str),
                                      required("score", num), required("previous_score", num)};

// The key segment names the queue for every stream but `agent`, where it names the agent.
constexpr std::string_view queue_key = "queue_id";
constexpr std::string_view agent_key = "agent_id";

const std::array<event_type, 20> types{{
    {"session.created", "session", "created", queue_key, session_created},
    {"session.connected", "session", "connected", queue_key, session_connected},
    {"session.ended", "session", "ended", queue_key, session_ended},
    {"session.dropped", "session", "dropped", queue_key, session_dropped},
    {"session.transferred", "session", "transferred", queue_key, session_transferred},
    {"queue.depth-changed", "queue", "depth-changed", queue_key, queue_depth_changed, true},
    {"queue.abandoned", "queue", "abandoned", queue_key, queue_abandoned},
    {"queue.max-wait-exceeded", "queue", "max-wait-exceeded", queue_key, queue_max_wait_exceeded},
    {"agent.online", "agent", "online", agent_key, agent_online},
    {"agent.offline", "agent", "offline", agent_key, agent_offline},
    {"agent.status-changed", "agent", "status-changed", agent_key, agent_status_changed, true},
    {"agent.busy", "agent", "busy", agent_key, agent_busy},
    {"agent.break", "agent", "break", agent_key, agent_break},
    {"recording.started", "recording", "started", queue_key, recording_started},
    {"recording.finished", "recording", "finished", queue_key, recording_finished},
    {"recording.failed", "recording", "failed", queue_key, recording_failed},
    {"recording.deleted", "recording", "deleted", queue_key, recording_deleted},
    {"qa.scorecard-saved", "qa", "scorecard-saved", queue_key, qa_scorecard_saved},
    {"qa.dispute-raised", "qa", "dispute-raised", queue_key, qa_dispute_raised},
    {"qa.score-updated", "qa", "score-updated", queue_key, qa_score_updated},
}};

constexpr std::array<std::string_view, 5> stream_names{"session", "queue", "agent", "recording", "qa"};

std::string_view key_field_of_stream(std::string_view stream) noexcept {
  return stream == "agent" ? agent_key : queue_key;
}

// A JSON number is finite: a NaN or an infinity in a Boost.JSON value is no number a publisher
// can send, and the wire has no text for it.
bool has_type(const boost::json::value& value, field_type type) noexcept {
  switch (type) {
    case field_type::string:
      return value.is_string();
    case field_type::number:
      return value.is_int64() || value.is_uint64() || (value.is_double() && std::isfinite(value.get_double()));
    case field_type::non_negative_number:
      if (value.is_uint64()) return true;
      if (value.is_int64()) return value.get_int64() >= 0;
      return value.is_double() && std::isfinite(value.get_double()) && value.get_double() >= 0.0;
    case field_type::string_array:
      return value.is_array();  // elements are checked one by one for a precise message
  }
  return false;
}

core::error invalid(std::string message) { return {std::string(invalid_event_code), std::move(message)}; }

std::string field_path(std::string_view prefix, std::string_view name) {
  std::string path(prefix);
  path += "data.";
  path += name;
  return path;
}

boost::json::value build_json() {
  boost::json::array stream_list;
  for (std::string_view stream : stream_names) {
    stream_list.push_back(boost::json::object{{"name", stream}, {"key_field", key_field_of_stream(stream)}});
  }
  boost::json::array type_list;
  for (const event_type& type : types) {
    boost::json::array fields;
    for (const field_spec& field : type.fields) {
      fields.push_back(
          boost::json::object{{"name", field.name}, {"type", json_name(field.type)}, {"required", field.required}});
    }
    type_list.push_back(boost::json::object{{"type", type.type},
                                            {"stream", type.stream},
                                            {"event", type.event},
                                            {"topic", type.topic_pattern()},
                                            {"key_field", type.key_field},
                                            {"gauge", type.gauge},
                                            {"fields", std::move(fields)}});
  }
  return boost::json::object{{"streams", std::move(stream_list)}, {"types", std::move(type_list)}};
}

}  // namespace

std::string_view describe(field_type type) noexcept {
  switch (type) {
    case field_type::string: return "a string";
    case field_type::non_negative_number: return "a non-negative number";
    case field_type::number: return "a number";
    case field_type::string_array: return "an array of strings";
  }
  return "a value";
}

std::string_view json_name(field_type type) noexcept {
  switch (type) {
    case field_type::string: return "string";
    case field_type::non_negative_number: return "non_negative_number";
    case field_type::number: return "number";
    case field_type::string_array: return "string_array";
  }
  return "unknown";
}

std::string event_type::topic_pattern() const {
  std::string pattern(stream);
  pattern += ".{";
  pattern += key_field;
  pattern += "}.";
  pattern += event;
  return pattern;
}

const field_spec* event_type::field(std::string_view name) const noexcept {
  for (const field_spec& spec : fields) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::span<const std::string_view> streams() noexcept { return stream_names; }

std::span<const event_type> catalogue() noexcept { return types; }

const event_type* find_event_type(std::string_view type) noexcept {
  for (const event_type& candidate : types) {
    if (candidate.type == type) return &candidate;
  }
  return nullptr;
}

bool is_gauge_topic(std::string_view topic) noexcept {
  const auto first_dot = topic.find('.');
  const auto last_dot = topic.rfind('.');
  if (first_dot == std::string_view::npos || last_dot == first_dot) return false;
  const std::string_view stream = topic.substr(0, first_dot), event = topic.substr(last_dot + 1);
  for (const event_type& candidate : types)
    if (candidate.gauge && candidate.stream == stream && candidate.event == event) return true;
  return false;
}

std::optional<core::error> validate(std::string_view type, const boost::json::object& data) {
  const event_type* spec = find_event_type(type);
  if (spec == nullptr) return invalid("unknown event type " + detail::quoted_input(type));
  return validate_data(*spec, data);
}

std::optional<core::error> validate_data(const event_type& type, const boost::json::object& data,
                                         std::string_view path_prefix) {
  for (const field_spec& field : type.fields) {
    const boost::json::value* value = data.if_contains(field.name);
    if (value == nullptr) {
      if (!field.required) continue;
      return invalid(field_path(path_prefix, field.name) + " is required for " + std::string(type.type));
    }
    if (!has_type(*value, field.type)) {
      return invalid(field_path(path_prefix, field.name) + ": expected " + std::string(describe(field.type)));
    }
    if (field.type == field_type::string_array) {
      const boost::json::array& items = value->get_array();
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (!items[i].is_string()) {
          return invalid(field_path(path_prefix, field.name) + "[" + std::to_string(i) + "]: expected a string");
        }
      }
    }
  }
  return std::nullopt;
}

const std::string& to_json() {
  static const std::string body = boost::json::serialize(build_json());
  return body;
}

}  // namespace globemeet::server::events
