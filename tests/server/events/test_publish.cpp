#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "globemeet/core/codec.hpp"
#include "globemeet/server/events/catalogue.hpp"
#include "globemeet/server/events/publish.hpp"

namespace events = globemeet::server::events;
namespace codec = globemeet::core::codec;

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

// The one event `body` holds, which must be accepted.
events::pending_event accepted(std::string_view body) {
  auto parsed = events::parse_publish(body, "acme");
  if (!parsed) FAIL(parsed.err().code << ": " << parsed.err().message);
  REQUIRE(parsed->size() == 1);
  return parsed->front();
}

// The frame every subscriber would be sent for `pending`, as the log builds it.
std::string frame_of(const events::pending_event& pending) {
  globemeet::core::event envelope;
  envelope.id = "6f1c2a9e-1043";
  envelope.source = pending.source;
  envelope.type = pending.type;
  envelope.subject = pending.subject;
  envelope.time = "2026-11-27T23:46:07.000Z";
  envelope.topic = pending.topic;
  envelope.tenant = pending.tenant;
  envelope.data_json = pending.data_json;
  return codec::encode_event(envelope);
}

// What a subscriber's client makes of the frame: the core's strict decoder must take it.
void check_frame_decodes(const events::pending_event& pending) {
  const std::string frame = frame_of(pending);
  INFO(frame);
  const auto decoded = codec::decode_server(frame);
  if (!decoded) FAIL(decoded.err().code << ": " << decoded.err().message);
  CHECK(std::holds_alternative<globemeet::core::event_frame>(decoded.value()));
}

// `{"deep":[[...[0]...]]}` with `levels` arrays.
std::string nested_arrays(int levels) {
  return R"({"deep":)" + std::string(static_cast<std::size_t>(levels), '[') + "0" +
         std::string(static_cast<std::size_t>(levels), ']') + "}";
}

std::string depth_event_with(const std::string& extra_members) {
  return R"({"type":"queue.depth-changed","subject":"support","data":{"queue_id":"support","depth":1,"longest_wait_seconds":2)" +
         extra_members + "}}";
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
  // A valid event padded with whitespace to exactly the limit is accepted.
  const std::string event = R"({"type":"agent.online","subject":"a-1","data":{"agent_id":"a-1","pad":"x"}})";
  std::string body = event + std::string(events::max_publish_body_bytes - event.size(), ' ');
  REQUIRE(body.size() == events::max_publish_body_bytes);
  CHECK(events::parse_publish(body, "acme").ok());

  body.push_back(' ');
  const auto error = refusal(body);
  CHECK(error.code == "payload_too_large");
  CHECK(error.message == "body: 1048577 bytes is more than the limit of 1048576");
}

TEST_CASE("an event's frame is at most what a subscriber accepts", "[events][publish]") {
  // The envelope is longer than the body's own few members: a data object that fits in a 1 MiB
  // body can still make a frame over 1 MiB, which every client would drop. Such an event is
  // refused rather than stored.
  const std::string head = R"({"type":"agent.online","subject":"a-1","data":{"agent_id":"a-1","pad":")";
  const std::string tail = R"("}})";
  const std::string full = head + std::string(events::max_publish_body_bytes - head.size() - tail.size(), 'x') + tail;
  const auto error = refusal(full);
  CHECK(error.code == "payload_too_large");
  CHECK_THAT(error.message, Catch::StartsWith("data: 1048529 bytes make an event frame of up to ") &&
                                Catch::EndsWith(" bytes, more than the limit of 1048576"));
  const std::string batch_head = R"({"events":[)" + depth_event + "," + head;
  const std::string batch_tail = tail + "]}";
  const std::string batch = batch_head +
                            std::string(events::max_publish_body_bytes - batch_head.size() - batch_tail.size(), 'x') +
                            batch_tail;
  CHECK_THAT(refusal(batch).message, Catch::StartsWith("events[1].data: "));

  // The largest data that fits: its frame, with the longest id and time, is exactly the limit.
  const std::size_t frame_without_pad = frame_of(accepted(head + tail)).size();
  const std::size_t longest_id_and_time = std::string("ffffffffffffffff-9007199254740991").size() - 13;  // "6f1c2a9e-1043"
  const std::size_t room = globemeet::core::codec::max_server_frame_bytes - frame_without_pad - longest_id_and_time;
  const auto largest = accepted(head + std::string(room, 'x') + tail);
  CHECK(frame_of(largest).size() + longest_id_and_time == globemeet::core::codec::max_server_frame_bytes);
  check_frame_decodes(largest);
  CHECK(refusal(head + std::string(room + 1, 'x') + tail).code == "payload_too_large");
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

// ---- issue 10: an event's stored bytes are always strict JSON --------------------------------

TEST_CASE("numbers are stored as the publisher wrote them, never as NaN or Infinity", "[events][publish]") {
  // Boost.JSON's own parse read 0e309 as 0 x infinity = NaN and stored `"":NaN`.
  const auto zero = accepted(depth_event_with(R"(,"":0e309)"));
  CHECK(zero.data_json == R"({"queue_id":"support","depth":1,"longest_wait_seconds":2,"":0e309})");
  check_frame_decodes(zero);

  // It rounded DBL_MAX's shortest text up to infinity and stored `Infinity`.
  const auto largest = accepted(
      R"({"type":"qa.scorecard-saved","subject":"support","data":{"scorecard_id":"qa-1","session_id":"s-1","agent_id":"a-1","score":1.7976931348623158e308}})");
  CHECK(largest.data_json ==
        R"({"scorecard_id":"qa-1","session_id":"s-1","agent_id":"a-1","score":1.7976931348623158e308})");
  check_frame_decodes(largest);

  // And it changed numbers near the subnormal range (stored as 2.2250738585072014e-308).
  const auto subnormal = accepted(depth_event_with(R"(,"tiny":2.2250738585072011e-308)"));
  CHECK(subnormal.data_json ==
        R"({"queue_id":"support","depth":1,"longest_wait_seconds":2,"tiny":2.2250738585072011e-308})");
  check_frame_decodes(subnormal);
}

TEST_CASE("every number keeps its text, whatever a double would make of it", "[events][publish]") {
  for (const std::string number :
       {"0", "-0", "-0.0", "1.0", "1E+2", "1e-2", "0.1000", "1e-400", "-1e-400", "4.9e-324", "2.4703282292062328e-324",
        "9007199254740993", "18446744073709551615", "18446744073709551616", "-9223372036854775808",
        "-9223372036854775809", "123456789012345678901234567890.123456789e-5", "1.7976931348623157e308",
        "-1.7976931348623158e308", "0e309", "0.0e-99999", "0E+400"}) {
    INFO(number);
    const auto event = accepted(depth_event_with(R"(,"n":)" + number + R"(,"in":[)" + number + "]"));
    CHECK(event.data_json == R"({"queue_id":"support","depth":1,"longest_wait_seconds":2,"n":)" + number +
                                 R"(,"in":[)" + number + "]}");
    check_frame_decodes(event);
  }
  // Catalogue fields too: a non-negative number may be written -0 or 0e400.
  const auto depth = accepted(
      R"({"type":"queue.depth-changed","subject":"support","data":{"queue_id":"support","depth":-0,"longest_wait_seconds":0e400}})");
  CHECK(depth.data_json == R"({"queue_id":"support","depth":-0,"longest_wait_seconds":0e400})");
}

TEST_CASE("numbers that are not finite are refused as bad_json", "[events][publish]") {
  for (const std::string number : {"1e309", "-1e309", "1.7976931348623159e308", "1e99999999999", "123e400"}) {
    INFO(number);
    const auto error = refusal(depth_event_with(R"(,"n":)" + number));
    CHECK(error.code == "bad_json");
    CHECK_THAT(error.message, Catch::Contains("number out of range"));
  }
}

TEST_CASE("nesting is allowed to the strict limit of 64 levels", "[events][publish]") {
  // The body object is level 1 and `data` level 2; Boost.JSON's default limit of 32 refused
  // levels 33 to 64, which the strict rules allow.
  for (int levels = 31; levels <= 62; ++levels) {
    INFO(levels);
    const std::string deep = nested_arrays(levels);
    const auto event = accepted(depth_event_with("," + deep.substr(1, deep.size() - 2)));
    CHECK(event.data_json == R"({"queue_id":"support","depth":1,"longest_wait_seconds":2,)" +
                                 deep.substr(1, deep.size() - 2) + "}");
    check_frame_decodes(event);
  }
  const std::string too_deep = nested_arrays(63);
  const auto error = refusal(depth_event_with("," + too_deep.substr(1, too_deep.size() - 2)));
  CHECK(error == globemeet::core::error{"bad_json", "nested deeper than 64 levels"});

  // In a batch `data` is level 4.
  const std::string deepest = nested_arrays(60);
  auto batch = events::parse_publish(
      R"({"events":[)" + depth_event + "," + depth_event_with("," + deepest.substr(1, deepest.size() - 2)) + "]}",
      "acme");
  REQUIRE(batch.ok());
  REQUIRE(batch->size() == 2);
  check_frame_decodes(batch.value()[1]);
  const std::string deeper = nested_arrays(61);
  CHECK(refusal(R"({"events":[)" + depth_event_with("," + deeper.substr(1, deeper.size() - 2)) + "]}").message ==
        "nested deeper than 64 levels");
}

TEST_CASE("strings are stored compact, with the same characters", "[events][publish]") {
  const auto event = accepted(
      "{ \"type\" : \"agent.online\" ,\n \"subject\":\"a-1\", \"data\" : {\"agent_id\": \"a\\u002d1\" ,\t"
      R"("note":"\u00e9\ud83d\ude00\/\"\\\b\f\n\r\t\u0000\u001F\u007f é😀", "\u0041": [ 1 , true , null , { } , [ ] ] } })");
  CHECK(event.data_json ==
        "{\"agent_id\":\"a-1\",\"note\":\"\u00e9\U0001F600/\\\"\\\\\\b\\f\\n\\r\\t\\u0000\\u001f\x7f \u00e9\U0001F600\","
        "\"A\":[1,true,null,{},[]]}");
  check_frame_decodes(event);
}

// ---- property: whatever is accepted is stored as strict JSON, numbers as written -------------

namespace {

// A JSON value as a publisher sends it (any whitespace and escapes) and as it must be stored:
// compact, members in the sent order, numbers as sent, strings with only quote, backslash and
// control characters escaped (\b \f \n \r \t, else \u00xx).
struct json_text {
  std::string sent;
  std::string stored;
};

class body_generator {
 public:
  struct body {
    std::string text;
    bool strict = true;                    // false when it breaks a rule of protocol.md section 2
    std::vector<std::string> stored_data;  // each event's data as it must be stored
  };

  explicit body_generator(std::uint32_t seed) : rng_(seed) {}

  body next() {
    body out;
    strict_ = true;
    const bool batch = chance(0.5);
    const std::size_t count = batch ? 1 + pick(5) : 1;
    std::string events_text;
    for (std::size_t i = 0; i < count; ++i) {
      json_text data;
      std::string event = an_event(batch ? 4 : 2, data);
      out.stored_data.push_back(std::move(data.stored));
      if (i > 0) events_text += ws() + "," + ws();
      events_text += event;
    }
    out.text = batch ? ws() + "{" + ws() + R"("events")" + ws() + ":" + ws() + "[" + ws() + events_text + ws() + "]" +
                           ws() + "}" + ws()
                     : ws() + events_text + ws();
    out.strict = strict_;
    return out;
  }

 private:
  std::mt19937 rng_;
  bool strict_ = true;

  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <class T, std::size_t N>
  const T& one_of(const T (&items)[N]) { return items[pick(N)]; }

  std::string ws() {
    static const char* const spaces[] = {"", "", "", " ", "\n", "\t", "\r\n  ", "   "};
    return one_of(spaces);
  }

  std::string digits(std::size_t count, bool leading_nonzero) {
    std::string out;
    for (std::size_t i = 0; i < count; ++i) {
      out.push_back(static_cast<char>('0' + ((i == 0 && leading_nonzero) ? 1 + pick(9) : pick(10))));
    }
    return out;
  }

  // A JSON number; one that strtod (as the strict parse, the core client and JSON.parse all
  // round) reads as infinity makes the body not strict.
  std::string number(bool non_negative) {
    static const char* const extremes[] = {
        "0e309", "1.7976931348623158e308", "1.7976931348623157e308", "2.2250738585072011e-308",
        "2.2250738585072014e-308", "4.9e-324", "5e-324", "2.4703282292062327e-324", "1e-400", "0.0e-99999",
        "0E+400", "18446744073709551616", "18446744073709551615", "9223372036854775808", "9007199254740993",
        "1.0", "100", "0", "-0", "-0.0", "-1e-400"};
    static const char* const negatives[] = {"-1.7976931348623158e308", "-9223372036854775809",
                                            "-9223372036854775808", "-2.5", "-4.9e-324"};
    if (chance(0.02)) {  // not a finite JSON number
      static const char* const bad[] = {"1e309", "-1.7976931348623159e308", "1e99999", "NaN", "Infinity",
                                        "-Infinity", "01", "1.", ".5", "+1", "1e", "0x10"};
      strict_ = false;
      return one_of(bad);
    }
    if (chance(0.3)) return !non_negative && chance(0.3) ? one_of(negatives) : one_of(extremes);
    std::string text = !non_negative && chance(0.3) ? "-" : "";
    text += chance(0.2) ? "0" : digits(1 + pick(chance(0.2) ? 30 : 6), true);
    if (chance(0.4)) text += "." + digits(1 + pick(chance(0.2) ? 25 : 4), false);
    if (chance(0.4)) {
      text += chance(0.5) ? "e" : "E";
      static const char* const signs[] = {"", "+", "-"};
      text += one_of(signs);
      text += std::to_string(chance(0.1) ? 280 + pick(60) : pick(30));
    }
    if (!std::isfinite(std::strtod(text.c_str(), nullptr))) strict_ = false;
    return text;
  }

  // A JSON string, sent with escapes of every kind and stored with the canonical ones.
  json_text string_value() {
    json_text out{"\"", "\""};
    const std::size_t pieces = pick(7);
    for (std::size_t i = 0; i < pieces; ++i) {
      switch (pick(16)) {
        case 0: out.sent += R"(\")"; out.stored += R"(\")"; break;
        case 1: out.sent += R"(\\)"; out.stored += R"(\\)"; break;
        case 2: out.sent += R"(\/)"; out.stored += "/"; break;
        case 3: {
          static const char* const short_escapes[] = {R"(\b)", R"(\f)", R"(\n)", R"(\r)", R"(\t)"};
          const std::string escape = one_of(short_escapes);
          out.sent += escape;
          out.stored += escape;
          break;
        }
        case 4: {  // a control character as \u00XX, stored with its short escape or lowercase hex
          static const char* const hex = "0123456789abcdef";
          const std::size_t c = pick(0x20);
          std::string upper = "\\u00";
          upper.push_back(static_cast<char>(std::toupper(hex[c >> 4])));
          upper.push_back(static_cast<char>(std::toupper(hex[c & 0xF])));
          out.sent += upper;
          switch (c) {
            case '\b': out.stored += R"(\b)"; break;
            case '\f': out.stored += R"(\f)"; break;
            case '\n': out.stored += R"(\n)"; break;
            case '\r': out.stored += R"(\r)"; break;
            case '\t': out.stored += R"(\t)"; break;
            default: out.stored += std::string("\\u00") + hex[c >> 4] + hex[c & 0xF];
          }
          break;
        }
        case 5: out.sent += R"(\u0041)"; out.stored += "A"; break;
        case 6: out.sent += R"(\u00E9)"; out.stored += "\xC3\xA9"; break;
        case 7: out.sent += R"(\u20ac)"; out.stored += "\xE2\x82\xAC"; break;
        case 8: out.sent += R"(\uD83D\uDE00)"; out.stored += "\xF0\x9F\x98\x80"; break;
        case 9: out.sent += "\xC3\xA9\xF0\x9F\x98\x80"; out.stored += "\xC3\xA9\xF0\x9F\x98\x80"; break;
        case 10: out.sent += "\x7F"; out.stored += "\x7F"; break;
        case 11:
          if (chance(0.1)) {  // a lone surrogate
            static const char* const lone[] = {R"(\ud800)", R"(\uDC00)", R"(\ud83dx)", R"(\ude00\ud83d)"};
            out.sent += one_of(lone);
            strict_ = false;
            break;
          }
          [[fallthrough]];
        default: {
          static const char* const words[] = {"support", "a-17", " ", "x", "{}[]:,", "'", "0.5", "null"};
          const std::string word = one_of(words);
          out.sent += word;
          out.stored += word;
        }
      }
    }
    out.sent += "\"";
    out.stored += "\"";
    return out;
  }

  // Arrays and objects nested `levels` deep from `level`, with a number at the bottom.
  json_text chain(int level, int levels) {
    if (level + levels - 1 > 64) strict_ = false;
    json_text out;
    std::string closing;
    for (int i = 0; i < levels; ++i) {
      const bool array = chance(0.7);
      out.sent += array ? "[" + ws() : "{" + ws() + "\"k\":" + ws();
      out.stored += array ? "[" : "{\"k\":";
      closing.push_back(array ? ']' : '}');
    }
    const std::string n = number(false);
    out.sent += n;
    out.stored += n;
    for (auto c = closing.rbegin(); c != closing.rend(); ++c) {
      out.sent += ws() + *c;
      out.stored += *c;
    }
    return out;
  }

  // Any JSON value at `level` (the body object is level 1).
  json_text value(int level) {
    if (chance(0.03)) {  // as deep as allowed, or one level more
      const int deepest = 64 - level + 1;
      const double roll = std::uniform_real_distribution<double>(0, 1)(rng_);
      return chain(level, roll < 0.6 ? deepest : roll < 0.9 ? 1 + static_cast<int>(pick(static_cast<std::size_t>(deepest)))
                                                             : deepest + 1);
    }
    const double containers = level < 8 ? 0.3 : 0.05;
    const std::size_t kind = chance(containers) ? 5 + pick(2) : pick(5);
    switch (kind) {
      case 0: return {"null", "null"};
      case 1: return chance(0.5) ? json_text{"true", "true"} : json_text{"false", "false"};
      case 2:
      case 3: {
        const std::string n = number(false);
        return {n, n};
      }
      case 4: return string_value();
      case 5: {
        json_text out{"[" + ws(), "["};
        const std::size_t n = pick(4);
        for (std::size_t i = 0; i < n; ++i) {
          if (i > 0) { out.sent += ws() + "," + ws(); out.stored += ","; }
          const json_text item = value(level + 1);
          out.sent += item.sent;
          out.stored += item.stored;
        }
        out.sent += ws() + "]";
        out.stored += "]";
        return out;
      }
      default: {
        std::vector<std::pair<json_text, json_text>> members;
        const std::size_t n = pick(4);
        for (std::size_t i = 0; i < n; ++i) {
          json_text name = key(i);
          members.emplace_back(std::move(name), value(level + 1));
        }
        return object_of(members);
      }
    }
  }

  // A member name unique in its object ("k3_" and more), or "" for the first member.
  json_text key(std::size_t index) {
    if (index == 0 && chance(0.2)) return {"\"\"", "\"\""};
    json_text suffix = string_value();
    const std::string prefix = "\"k" + std::to_string(index) + "_";
    return {prefix + suffix.sent.substr(1), prefix + suffix.stored.substr(1)};
  }

  json_text object_of(std::vector<std::pair<json_text, json_text>>& members) {
    if (members.size() > 1 && chance(0.02)) {  // a repeated member name
      members.back().first = members.front().first;
      strict_ = false;
    }
    json_text out{"{" + ws(), "{"};
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (i > 0) { out.sent += ws() + "," + ws(); out.stored += ","; }
      out.sent += members[i].first.sent + ws() + ":" + ws() + members[i].second.sent;
      out.stored += members[i].first.stored + ":" + members[i].second.stored;
    }
    out.sent += ws() + "}";
    out.stored += "}";
    return out;
  }

  static json_text plain(const std::string& s) { return {"\"" + s + "\"", "\"" + s + "\""}; }

  // One event whose data object is at `data_level` (2 alone, 4 in a batch).
  std::string an_event(int data_level, json_text& data) {
    const auto catalogue = events::catalogue();
    const events::event_type& type = catalogue[pick(catalogue.size())];
    static const char* const subjects[] = {"support", "a-17", "Sales_2", "q"};
    const std::string subject = one_of(subjects);

    std::vector<std::pair<json_text, json_text>> members;
    for (const auto& field : type.fields) {
      if (!field.required && chance(0.5)) continue;
      json_text field_value;
      switch (field.type) {
        case events::field_type::string:
          field_value = field.name == type.key_field ? plain(subject) : string_value();
          break;
        case events::field_type::non_negative_number: {
          const std::string n = number(true);
          field_value = {n, n};
          break;
        }
        case events::field_type::number: {
          const std::string n = number(false);
          field_value = {n, n};
          break;
        }
        case events::field_type::string_array: {
          const json_text first = string_value(), second = string_value();
          field_value = {"[" + first.sent + "," + ws() + second.sent + "]", "[" + first.stored + "," + second.stored + "]"};
          break;
        }
      }
      members.emplace_back(plain(std::string(field.name)), field_value);
    }
    const std::size_t extras = pick(5);
    for (std::size_t i = 0; i < extras; ++i) {
      json_text name = key(i);
      members.emplace_back(std::move(name), value(data_level + 1));
    }
    std::shuffle(members.begin(), members.end(), rng_);
    data = object_of(members);

    std::vector<std::string> parts{R"("type")" + ws() + ":" + ws() + "\"" + std::string(type.type) + "\"",
                                   R"("subject")" + ws() + ":" + ws() + "\"" + subject + "\"",
                                   R"("data")" + ws() + ":" + ws() + data.sent};
    std::shuffle(parts.begin(), parts.end(), rng_);
    return "{" + ws() + parts[0] + ws() + "," + ws() + parts[1] + ws() + "," + ws() + parts[2] + ws() + "}";
  }
};

}  // namespace

TEST_CASE("property: an accepted body is stored as strict JSON with its numbers as written", "[events][publish]") {
  body_generator generator(20261127);
  std::size_t stored = 0, refused = 0;
  for (int i = 0; i < 3000; ++i) {
    const body_generator::body body = generator.next();
    INFO("body " << i << ": " << body.text);
    // The generator knows the strict rules; the parse must agree with it and with the core.
    const auto strict_error = codec::check_strict_json(body.text, events::max_publish_body_bytes);
    CHECK(strict_error.has_value() == !body.strict);
    auto parsed = events::parse_publish(body.text, "acme");
    if (!body.strict) {
      REQUIRE_FALSE(parsed.ok());
      CHECK(parsed.err().code == "bad_json");
      if (strict_error) CHECK(parsed.err().message == strict_error->message);
      ++refused;
      continue;
    }
    if (!parsed) FAIL(parsed.err().code << ": " << parsed.err().message);
    REQUIRE(parsed->size() == body.stored_data.size());
    for (std::size_t k = 0; k < parsed->size(); ++k) {
      const events::pending_event& event = parsed.value()[k];
      CHECK(event.data_json == body.stored_data[k]);
      const std::string frame = frame_of(event);
      CHECK_FALSE(codec::check_strict_json(frame, codec::max_server_frame_bytes).has_value());
      const auto decoded = codec::decode_server(frame);
      CHECK(decoded.ok());
      ++stored;
    }
  }
  // Both sides of the property were exercised.
  CHECK(stored > 2000);
  CHECK(refused > 100);
}

TEST_CASE("a refusal quotes at most 128 bytes of what the publisher wrote", "[events][publish]") {
  const std::string long_name(100'000, 'm');
  const auto member = refusal(R"({"type":"queue.depth-changed","subject":"support",")" + long_name +
                              R"(":1,"data":{"queue_id":"support","depth":1,"longest_wait_seconds":1}})");
  CHECK(member.message == std::string(128, 'm') + "... (100000 bytes): unknown member (an event has type, subject and data)");

  const auto type = refusal(R"({"type":")" + long_name + R"(","subject":"support","data":{}})");
  CHECK(type.message.size() < 200);
  CHECK(type.message.find("(100000 bytes)") != std::string::npos);

  // A cut never splits a UTF-8 character: 127 ASCII bytes, then a 2-byte 'é' that would straddle 128.
  const std::string subject = std::string(127, 's') + "\xC3\xA9" + std::string(10, 's');
  const auto cut = refusal(R"({"type":"queue.depth-changed","subject":")" + subject +
                           R"(","data":{"queue_id":"support","depth":1,"longest_wait_seconds":1}})");
  CHECK(cut.message == "subject: '" + std::string(127, 's') + "...' (139 bytes) is not a topic segment (1 to 64 characters of A-Z a-z 0-9 _ -)");

  // Short input is quoted whole, as before.
  CHECK(refusal(R"({"type":"queue.nope","subject":"support","data":{}})").message == "type: unknown event type 'queue.nope'");
}
