#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "globemeet/server/events/catalogue.hpp"

namespace events = globemeet::server::events;
using events::field_type;

namespace {

// docs/protocol.md section 3.1, restated by hand so that the table in the code is checked
// against the document rather than against itself.
struct documented_type {
  std::vector<std::string> required;
  std::vector<std::string> optional;
};
const std::map<std::string, documented_type> documented{
    {"session.created", {{"session_id", "queue_id"}, {"caller", "channel"}}},
    {"session.connected", {{"session_id", "queue_id", "agent_id"}, {"wait_seconds"}}},
    {"session.ended", {{"session_id", "queue_id", "duration_seconds"}, {"agent_id", "disposition"}}},
    {"session.dropped", {{"session_id", "queue_id"}, {"wait_seconds", "reason"}}},
    {"session.transferred", {{"session_id", "queue_id", "from_agent_id", "to_queue_id"}, {"to_agent_id"}}},
    {"queue.depth-changed", {{"queue_id", "depth", "longest_wait_seconds"}, {"agents_available"}}},
    {"queue.abandoned", {{"queue_id", "session_id", "wait_seconds"}, {}}},
    {"queue.max-wait-exceeded", {{"queue_id", "longest_wait_seconds", "threshold_seconds"}, {}}},
    {"agent.online", {{"agent_id"}, {"queues"}}},
    {"agent.offline", {{"agent_id"}, {"reason"}}},
    {"agent.status-changed", {{"agent_id", "status", "previous_status"}, {}}},
    {"agent.busy", {{"agent_id", "session_id"}, {}}},
    {"agent.break", {{"agent_id"}, {"reason", "expected_seconds"}}},
    {"recording.started", {{"recording_id", "session_id"}, {}}},
    {"recording.finished", {{"recording_id", "session_id", "duration_seconds"}, {"size_bytes"}}},
    {"recording.failed", {{"recording_id", "session_id", "reason"}, {}}},
    {"recording.deleted", {{"recording_id"}, {"reason"}}},
    {"qa.scorecard-saved", {{"scorecard_id", "session_id", "agent_id", "score"}, {}}},
    {"qa.dispute-raised", {{"scorecard_id", "agent_id", "reason"}, {}}},
    {"qa.score-updated", {{"scorecard_id", "agent_id", "score", "previous_score"}, {}}},
};

// The field typing rule of section 3.1, by name.
field_type documented_field_type(const std::string& name) {
  auto ends_with = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (name == "queues") return field_type::string_array;
  if (name == "score" || name == "previous_score") return field_type::number;
  if (name == "depth" || name == "size_bytes" || name == "agents_available" || ends_with("_seconds")) {
    return field_type::non_negative_number;
  }
  return field_type::string;  // _id, status, reason, channel, caller, disposition
}

boost::json::value good_value(field_type type) {
  switch (type) {
    case field_type::string: return "x-1";
    case field_type::non_negative_number: return 7;
    case field_type::number: return -2.5;
    case field_type::string_array: return boost::json::array{"support", "sales"};
  }
  return nullptr;
}

// A value of the wrong JSON type for `type`.
boost::json::value bad_value(field_type type) {
  switch (type) {
    case field_type::string: return 17;
    case field_type::non_negative_number: return -1;
    case field_type::number: return "high";
    case field_type::string_array: return "support";
  }
  return nullptr;
}

boost::json::object required_data(const events::event_type& type) {
  boost::json::object data;
  for (const auto& field : type.fields) {
    if (field.required) data[field.name] = good_value(field.type);
  }
  return data;
}

std::string message_of(const std::optional<globemeet::core::error>& error) {
  REQUIRE(error.has_value());
  CHECK(error->code == "invalid_event");
  return error->message;
}

}  // namespace

TEST_CASE("the catalogue has the 20 documented types with their fields and JSON types", "[events][catalogue]") {
  REQUIRE(events::catalogue().size() == documented.size());
  for (const auto& type : events::catalogue()) {
    INFO(type.type);
    const auto found = documented.find(std::string(type.type));
    REQUIRE(found != documented.end());
    CHECK(std::string(type.stream) + "." + std::string(type.event) == type.type);
    std::vector<std::string> required, optional;
    for (const auto& field : type.fields) {
      (field.required ? required : optional).emplace_back(field.name);
      CHECK(field.type == documented_field_type(std::string(field.name)));
    }
    CHECK(required == found->second.required);
    CHECK(optional == found->second.optional);
    CHECK(events::find_event_type(type.type) == &type);
  }
  CHECK(events::find_event_type("queue.exploded") == nullptr);
  CHECK(events::find_event_type("") == nullptr);
}

TEST_CASE("streams and key fields", "[events][catalogue]") {
  const std::vector<std::string_view> streams(events::streams().begin(), events::streams().end());
  CHECK(streams == std::vector<std::string_view>{"session", "queue", "agent", "recording", "qa"});
  for (const auto& type : events::catalogue()) {
    INFO(type.type);
    CHECK(type.key_field == (type.stream == "agent" ? "agent_id" : "queue_id"));
  }
  CHECK(events::find_event_type("queue.depth-changed")->topic_pattern() == "queue.{queue_id}.depth-changed");
  CHECK(events::find_event_type("agent.busy")->topic_pattern() == "agent.{agent_id}.busy");
  CHECK(events::find_event_type("session.ended")->data_carries_key());
  CHECK(events::find_event_type("agent.online")->data_carries_key());
  CHECK_FALSE(events::find_event_type("recording.started")->data_carries_key());
  CHECK_FALSE(events::find_event_type("qa.score-updated")->data_carries_key());
}

TEST_CASE("every type accepts its required fields, its optional fields and extra fields", "[events][catalogue]") {
  for (const auto& type : events::catalogue()) {
    INFO(type.type);
    boost::json::object data = required_data(type);
    CHECK_FALSE(events::validate(type.type, data).has_value());
    for (const auto& field : type.fields) data[field.name] = good_value(field.type);
    CHECK_FALSE(events::validate(type.type, data).has_value());
    data["crm_ticket"] = "T-88";
    data["nested"] = boost::json::object{{"anything", boost::json::array{1, nullptr, true}}};
    CHECK_FALSE(events::validate(type.type, data).has_value());
  }
}

TEST_CASE("every missing required field is named with its type", "[events][catalogue]") {
  for (const auto& type : events::catalogue()) {
    for (const auto& field : type.fields) {
      if (!field.required) continue;
      INFO(type.type << " without " << field.name);
      boost::json::object data = required_data(type);
      data.erase(field.name);
      CHECK(message_of(events::validate(type.type, data)) ==
            "data." + std::string(field.name) + " is required for " + std::string(type.type));
    }
  }
}

TEST_CASE("every field of the wrong JSON type is named with the expected type", "[events][catalogue]") {
  for (const auto& type : events::catalogue()) {
    for (const auto& field : type.fields) {
      INFO(type.type << "." << field.name);
      boost::json::object data = required_data(type);
      data[field.name] = bad_value(field.type);
      CHECK(message_of(events::validate(type.type, data)) ==
            "data." + std::string(field.name) + ": expected " + std::string(events::describe(field.type)));
      data[field.name] = nullptr;  // null is not a value of any field type
      CHECK(events::validate(type.type, data).has_value());
    }
  }
}

TEST_CASE("precise messages for the documented examples", "[events][catalogue]") {
  const boost::json::object depth{{"queue_id", "support"}, {"depth", -3}, {"longest_wait_seconds", 4}};
  CHECK(message_of(events::validate("queue.depth-changed", depth)) == "data.depth: expected a non-negative number");

  const boost::json::object connected{{"session_id", "s-1"}, {"queue_id", "support"}};
  CHECK(message_of(events::validate("session.connected", connected)) ==
        "data.agent_id is required for session.connected");

  CHECK(message_of(events::validate("queue.exploded", boost::json::object{})) == "unknown event type 'queue.exploded'");

  const boost::json::object online{{"agent_id", "a-1"}, {"queues", boost::json::array{"support", 3}}};
  CHECK(message_of(events::validate("agent.online", online)) == "data.queues[1]: expected a string");

  CHECK(message_of(events::validate_data(*events::find_event_type("queue.depth-changed"), depth, "events[3].")) ==
        "events[3].data.depth: expected a non-negative number");
}

TEST_CASE("numbers: non-negative accepts zero and fractions, score accepts negatives", "[events][catalogue]") {
  boost::json::object depth{{"queue_id", "support"}, {"depth", 0}, {"longest_wait_seconds", 1.5}};
  CHECK_FALSE(events::validate("queue.depth-changed", depth).has_value());
  depth["depth"] = std::uint64_t{18'000'000'000'000'000'000u};
  CHECK_FALSE(events::validate("queue.depth-changed", depth).has_value());
  depth["longest_wait_seconds"] = -0.5;
  CHECK(events::validate("queue.depth-changed", depth).has_value());
  depth["longest_wait_seconds"] = "4";
  CHECK(events::validate("queue.depth-changed", depth).has_value());

  const boost::json::object scored{{"scorecard_id", "qa-1"}, {"session_id", "s-1"}, {"agent_id", "a-1"}, {"score", -4}};
  CHECK_FALSE(events::validate("qa.scorecard-saved", scored).has_value());
}

TEST_CASE("numbers: NaN and infinities are no numbers", "[events][catalogue]") {
  // What Boost.JSON's own parse makes of 0e309 and 1.7976931348623158e308; JSON has no text
  // for either, so an event carrying one could not be sent.
  for (const double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity()}) {
    INFO(bad);
    boost::json::object depth{{"queue_id", "support"}, {"depth", 1}, {"longest_wait_seconds", bad}};
    CHECK(message_of(events::validate("queue.depth-changed", depth)) ==
          "data.longest_wait_seconds: expected a non-negative number");
    boost::json::object scored{{"scorecard_id", "qa-1"}, {"session_id", "s-1"}, {"agent_id", "a-1"}, {"score", bad}};
    CHECK(message_of(events::validate("qa.scorecard-saved", scored)) == "data.score: expected a number");
  }
  const boost::json::object largest{{"scorecard_id", "qa-1"}, {"session_id", "s-1"}, {"agent_id", "a-1"},
                                    {"score", -std::numeric_limits<double>::max()}};
  CHECK_FALSE(events::validate("qa.scorecard-saved", largest).has_value());
}

TEST_CASE("GET /v1/topics serves the catalogue", "[events][catalogue]") {
  const boost::json::value body = boost::json::parse(events::to_json());
  CHECK(&events::to_json() == &events::to_json());  // built once

  const auto& streams = body.at("streams").as_array();
  REQUIRE(streams.size() == 5);
  CHECK(streams[2] == boost::json::value(boost::json::object{{"name", "agent"}, {"key_field", "agent_id"}}));

  const auto& types = body.at("types").as_array();
  REQUIRE(types.size() == 20);
  std::set<std::string> seen;
  for (const auto& entry : types) seen.insert(std::string(entry.at("type").as_string()));
  CHECK(seen.size() == 20);

  const auto& depth = types[5].as_object();
  CHECK(depth.at("type") == "queue.depth-changed");
  CHECK(depth.at("stream") == "queue");
  CHECK(depth.at("event") == "depth-changed");
  CHECK(depth.at("topic") == "queue.{queue_id}.depth-changed");
  CHECK(depth.at("key_field") == "queue_id");
  CHECK(depth.at("gauge") == true);
  std::set<std::string> gauges;
  for (const auto& entry : types)
    if (entry.at("gauge").as_bool()) gauges.insert(std::string(entry.at("type").as_string()));
  CHECK(gauges == std::set<std::string>{"agent.status-changed", "queue.depth-changed"});
  const auto& fields = depth.at("fields").as_array();
  REQUIRE(fields.size() == 4);
  CHECK(fields[1] ==
        boost::json::value(boost::json::object{{"name", "depth"}, {"type", "non_negative_number"}, {"required", true}}));
  CHECK(fields[3] == boost::json::value(boost::json::object{
                         {"name", "agents_available"}, {"type", "non_negative_number"}, {"required", false}}));

  const auto& online = types[8].as_object();
  CHECK(online.at("type") == "agent.online");
  CHECK(online.at("fields").as_array()[1] ==
        boost::json::value(boost::json::object{{"name", "queues"}, {"type", "string_array"}, {"required", false}}));
}

TEST_CASE("gauge topics are those of queue.depth-changed and agent.status-changed", "[events][catalogue]") {
  CHECK(events::is_gauge_topic("queue.support.depth-changed"));
  CHECK(events::is_gauge_topic("agent.a-17.status-changed"));
  CHECK_FALSE(events::is_gauge_topic("queue.support.abandoned"));
  CHECK_FALSE(events::is_gauge_topic("agent.a-17.depth-changed"));   // the event of another stream
  CHECK_FALSE(events::is_gauge_topic("session.support.created"));
  CHECK_FALSE(events::is_gauge_topic("queue.depth-changed"));         // a type, not a topic
  CHECK_FALSE(events::is_gauge_topic(""));
}
