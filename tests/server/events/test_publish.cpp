#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>

#include "globemeet/server/events/publish.hpp"

namespace events = globemeet::server::events;

namespace {

const std::string depth_event =
    R"({"type":"queue.depth-changed","subject":"support","data":{"queue_id":"support","depth":7,"longest_wait_seconds":42}})";

std::string batch_of(const std::string& event, std::size_t count) {
  std::string body = R"({"events":[)";
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) body += ',';
    body += event;
  }
  return body + "]}";
}

globemeet::core::error refusal(std::string_view body) {
  auto parsed = events::parse_publish(body, "acme");
  REQUIRE_FALSE(parsed.ok());
  return parsed.err();
}

}  // namespace

TEST_CASE("one event object becomes one pending event", "[events][publish]") {
  auto parsed = events::parse_publish(depth_event, "acme");
  REQUIRE(parsed.ok());
  REQUIRE(parsed->size() == 1);
  const events::pending_event& event = parsed->front();
  CHECK(event.tenant == "acme");
  CHECK(event.type == "queue.depth-changed");
  CHECK(event.subject == "support");
  CHECK(event.topic == "queue.support.depth-changed");
  CHECK(event.source == "/tenants/acme/queues/support");
  CHECK(boost::json::parse(event.data_json) ==
        boost::json::parse(R"({"queue_id":"support","depth":7,"longest_wait_seconds":42})"));
}

TEST_CASE("a batch keeps its order and every stream builds its topic and source", "[events][publish]") {
  const std::string body = R"({"events":[
    {"type":"agent.busy","subject":"a-17","data":{"agent_id":"a-17","session_id":"s-9"}},
    {"type":"recording.started","subject":"sales","data":{"recording_id":"r-1","session_id":"s-9"}},
    {"type":"qa.dispute-raised","subject":"sales","data":{"scorecard_id":"qa-1","agent_id":"a-17","reason":"x"}},
    {"type":"session.created","subject":"sales","data":{"session_id":"s-9","queue_id":"sales","channel":"chat"}}
  ]})";
  auto parsed = events::parse_publish(body, "globex");
  REQUIRE(parsed.ok());
  REQUIRE(parsed->size() == 4);
  CHECK(parsed.value()[0].topic == "agent.a-17.busy");
  CHECK(parsed.value()[0].source == "/tenants/globex/agents/a-17");
  CHECK(parsed.value()[1].topic == "recording.sales.started");
  CHECK(parsed.value()[1].source == "/tenants/globex/recordings/sales");
  CHECK(parsed.value()[2].topic == "qa.sales.dispute-raised");
  CHECK(parsed.value()[2].source == "/tenants/globex/qas/sales");
  CHECK(parsed.value()[3].topic == "session.sales.created");
  CHECK(parsed.value()[3].source == "/tenants/globex/sessions/sales");
  for (const auto& event : parsed.value()) CHECK(event.tenant == "globex");
}

TEST_CASE("extra data fields pass through", "[events][publish]") {
  auto parsed = events::parse_publish(
      R"({"type":"agent.offline","subject":"a-1","data":{"agent_id":"a-1","shift":{"id":4,"tags":["x"]},"note":"é"}})",
      "acme");
  REQUIRE(parsed.ok());
  CHECK(boost::json::parse(parsed->front().data_json) ==
        boost::json::parse(R"({"agent_id":"a-1","shift":{"id":4,"tags":["x"]},"note":"é"})"));
}

TEST_CASE("a batch is all or nothing and the error names the index", "[events][publish]") {
  const std::string bad =
      R"({"type":"queue.depth-changed","subject":"support","data":{"queue_id":"support","depth":-1,"longest_wait_seconds":42}})";
  const std::string body = R"({"events":[)" + depth_event + "," + depth_event + "," + depth_event + "," + bad + "," +
                           depth_event + "]}";
  const auto error = refusal(body);
  CHECK(error.code == "invalid_event");
  CHECK(error.message == "events[3].data.depth: expected a non-negative number");

  const std::string missing =
      R"({"type":"session.connected","subject":"support","data":{"session_id":"s-1","queue_id":"support"}})";
  CHECK(refusal(R"({"events":[)" + depth_event + "," + missing + "]}").message ==
        "events[1].data.agent_id is required for session.connected");
}

TEST_CASE("batch sizes: 1 to 1000 events", "[events][publish]") {
  auto thousand = events::parse_publish(batch_of(depth_event, 1000), "acme");
  REQUIRE(thousand.ok());
  CHECK(thousand->size() == 1000);

  const auto too_many = refusal(batch_of(depth_event, 1001));
  CHECK(too_many.code == "too_many_events");
  CHECK(too_many.message == "events: 1001 events is more than the limit of 1000 per request");

  const auto empty = refusal(R"({"events":[]})");
  CHECK(empty.code == "bad_request");
  CHECK(empty.message == "events: expected at least one event");
}

TEST_CASE("the body is at most 1 MiB", "[events][publish]") {
  // A valid event padded with an extra data field to exactly the limit is accepted.
  const std::string head = R"({"type":"agent.online","subject":"a-1","data":{"agent_id":"a-1","pad":")";
  const std::string tail = R"("}})";
  std::string body = head + std::string(events::max_publish_body_bytes - head.size() - tail.size(), 'x') + tail;
  REQUIRE(body.size() == events::max_publish_body_bytes);
  CHECK(events::parse_publish(body, "acme").ok());

  body = head + std::string(events::max_publish_body_bytes - head.size() - tail.size() + 1, 'x') + tail;
  const auto error = refusal(body);
  CHECK(error.code == "payload_too_large");
  CHECK(error.message == "body: 1048577 bytes is more than the limit of 1048576");
}

TEST_CASE("bad JSON is refused as bad_json", "[events][publish]") {
  for (const std::string& body : {std::string(""), std::string("{"), std::string("[]"), std::string("42"),
                                 depth_event + " {}", depth_event + "x",
                                 std::string(R"({"type":"agent.online","type":"agent.online"})"),
                                 std::string(R"({"type":"agent.online","subject":"a-1","data":{"agent_id":"a-1","n":1e999}})"),
                                 std::string("{\"type\":\"agent.online\",\"subject\":\"a\xff\"}")}) {
    INFO(body);
    CHECK(refusal(body).code == "bad_json");
  }
}

TEST_CASE("the shape of the body and of each event", "[events][publish]") {
  CHECK(refusal(R"({"events":{}})").message == "events: expected an array of events");
  CHECK(refusal(R"({"events":[1]})").message == "events[0]: expected an event object");
  CHECK(refusal(R"({"events":[], "extra":1})").message == "extra: unknown member next to 'events'");
  CHECK(refusal(R"({"events":[], "extra":1})").code == "bad_request");
  CHECK(refusal(R"({"subject":"support","data":{}})").message == "type is required");
  CHECK(refusal(R"({"type":7,"subject":"support","data":{}})").message == "type: expected a string");
  CHECK(refusal(R"({"type":"agent.online","data":{"agent_id":"a-1"}})").message == "subject is required");
  CHECK(refusal(R"({"type":"agent.online","subject":["a-1"],"data":{"agent_id":"a-1"}})").message ==
        "subject: expected a string");
  CHECK(refusal(R"({"type":"agent.online","subject":"a-1"})").message == "data is required");
  CHECK(refusal(R"({"type":"agent.online","subject":"a-1","data":"a-1"})").message == "data: expected an object");
  CHECK(refusal(R"({"events":[)" + depth_event + R"(,{"type":"agent.online","subject":"a-1","data":[]}]})").message ==
        "events[1].data: expected an object");
}

TEST_CASE("unknown event types are refused", "[events][publish]") {
  const auto error = refusal(R"({"events":[)" + depth_event +
                             R"(,{"type":"queue.exploded","subject":"support","data":{"queue_id":"support"}}]})");
  CHECK(error.code == "invalid_event");
  CHECK(error.message == "events[1].type: unknown event type 'queue.exploded'");
}

TEST_CASE("the subject must be one topic segment", "[events][publish]") {
  for (const std::string& subject : {std::string(""), std::string("sup port"), std::string("sup.port"),
                                    std::string("*"), std::string(">"), std::string("sup*"), std::string("é"),
                                    std::string(65, 'q')}) {
    INFO(subject);
    const std::string body = R"({"type":"recording.deleted","subject":")" + subject +
                             R"(","data":{"recording_id":"r-1"}})";
    const auto error = refusal(body);
    CHECK(error.code == "invalid_event");
    CHECK(error.message ==
          "subject: '" + subject + "' is not a topic segment (1 to 64 characters of A-Z a-z 0-9 _ -)");
  }
  const std::string longest(64, 'q');
  auto parsed = events::parse_publish(
      R"({"type":"recording.deleted","subject":")" + longest + R"(","data":{"recording_id":"r-1"}})", "acme");
  REQUIRE(parsed.ok());
  CHECK(parsed->front().topic == "recording." + longest + ".deleted");

  CHECK(events::is_topic_segment("Support_Tier-2"));
  CHECK_FALSE(events::is_topic_segment("tier/2"));
}

TEST_CASE("the subject must agree with the key field the data carries", "[events][publish]") {
  const auto error = refusal(
      R"({"type":"queue.depth-changed","subject":"sales","data":{"queue_id":"support","depth":1,"longest_wait_seconds":0}})");
  CHECK(error.code == "invalid_event");
  CHECK(error.message == "subject: 'sales' differs from data.queue_id 'support'");
  CHECK(refusal(R"({"type":"agent.busy","subject":"a-2","data":{"agent_id":"a-1","session_id":"s-1"}})").message ==
        "subject: 'a-2' differs from data.agent_id 'a-1'");
}

TEST_CASE("publishers cannot set what the server stamps", "[events][publish]") {
  for (const std::string member : {"time", "id", "source", "topic", "tenant", "specversion", "datacontenttype", "op"}) {
    INFO(member);
    const std::string body = R"({"type":"agent.online","subject":"a-1","data":{"agent_id":"a-1"},")" + member +
                             R"(":"x"})";
    const auto error = refusal(body);
    CHECK(error.code == "invalid_event");
    CHECK(error.message == member + ": set by the server, not by publishers");
  }
  CHECK(refusal(R"({"events":[)" + depth_event +
                R"(,{"type":"agent.online","subject":"a-1","data":{"agent_id":"a-1"},"time":"2026-01-01T00:00:00.000Z"}]})")
            .message == "events[1].time: set by the server, not by publishers");
  CHECK(refusal(R"({"type":"agent.online","subject":"a-1","data":{"agent_id":"a-1"},"priority":1})").message ==
        "priority: unknown member (an event has type, subject and data)");
}
