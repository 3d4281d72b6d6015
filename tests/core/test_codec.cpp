// The codec of docs/protocol.md sections 2, 3 and 5: round trips of every frame, the canonical
// encoding, every class of refused input with its message, JWT expiry extraction, and the
// language-neutral vectors of tests/vectors/frames.json.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <variant>

#include <boost/json.hpp>

#include "globemeet/core/codec.hpp"

using namespace globemeet::core;

namespace {

error client_error(std::string_view text) {
  const auto decoded = codec::decode_client(text);
  REQUIRE_FALSE(decoded.ok());
  return decoded.err();
}

error server_error(std::string_view text) {
  const auto decoded = codec::decode_server(text);
  REQUIRE_FALSE(decoded.ok());
  return decoded.err();
}

template <class Frame>
Frame decode_client_as(std::string_view text) {
  const auto decoded = codec::decode_client(text);
  INFO(text << (decoded.ok() ? std::string() : " -> " + decoded.err().message));
  REQUIRE(decoded.ok());
  REQUIRE(std::holds_alternative<Frame>(decoded.value()));
  return std::get<Frame>(decoded.value());
}

template <class Frame>
Frame decode_server_as(std::string_view text) {
  const auto decoded = codec::decode_server(text);
  INFO(text << (decoded.ok() ? std::string() : " -> " + decoded.err().message));
  REQUIRE(decoded.ok());
  REQUIRE(std::holds_alternative<Frame>(decoded.value()));
  return std::get<Frame>(decoded.value());
}

// Encodes `frame`, checks the exact text, and checks that decoding the text gives the frame back.
void check_client_round_trip(const client_frame& frame, std::string_view text) {
  CHECK(codec::encode(frame) == text);
  const auto decoded = codec::decode_client(text);
  INFO(text << (decoded.ok() ? std::string() : " -> " + decoded.err().message));
  REQUIRE(decoded.ok());
  CHECK(decoded.value() == frame);
}

void check_server_round_trip(const server_frame& frame, std::string_view text) {
  CHECK(codec::encode(frame) == text);
  const auto decoded = codec::decode_server(text);
  INFO(text << (decoded.ok() ? std::string() : " -> " + decoded.err().message));
  REQUIRE(decoded.ok());
  CHECK(decoded.value() == frame);
}

std::string base64url(std::string_view bytes) {
  static constexpr char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;
  for (unsigned char c : bytes) {
    bits = (bits << 8) | c;
    count += 8;
    while (count >= 6) {
      count -= 6;
      out.push_back(digits[(bits >> count) & 63]);
    }
  }
  if (count > 0) out.push_back(digits[(bits << (6 - count)) & 63]);
  return out;
}

std::string jwt_with_payload(std::string_view payload_json) {
  return base64url(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url(payload_json) + ".c2lnbmF0dXJl";
}

std::string decode_base64(std::string_view text) {
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    int digit;
    if (c >= 'A' && c <= 'Z') digit = c - 'A';
    else if (c >= 'a' && c <= 'z') digit = c - 'a' + 26;
    else if (c >= '0' && c <= '9') digit = c - '0' + 52;
    else if (c == '+') digit = 62;
    else if (c == '/') digit = 63;
    else continue;  // padding
    bits = (bits << 6) | static_cast<std::uint32_t>(digit);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xFF));
    }
  }
  return out;
}

std::string nested_arrays(int levels) {  // an object `levels` deep in total
  return R"({"op":"ping","x":)" + std::string(static_cast<std::size_t>(levels - 1), '[') +
         std::string(static_cast<std::size_t>(levels - 1), ']') + "}";
}

event sample_event() {
  event ev;
  ev.id = "6f1c2a9e-1043";
  ev.source = "/tenants/acme/queues/support";
  ev.type = "queue.depth-changed";
  ev.subject = "support";
  ev.time = "2026-11-27T18:02:11.204Z";
  ev.topic = "queue.support.depth-changed";
  ev.tenant = "acme";
  ev.data_json = R"({"queue_id":"support","depth":7,"longest_wait_seconds":42})";
  return ev;
}

}  // namespace

TEST_CASE("client frames round-trip through their canonical text", "[codec]") {
  check_client_round_trip(auth_frame{"eyJ.eyJ.sig"}, R"({"op":"auth","token":"eyJ.eyJ.sig"})");
  check_client_round_trip(subscribe_frame{"1", {"queue.support.depth-changed", "session.*.connected"}, "6f1c2a9e-1042"},
                          R"({"op":"subscribe","req":"1","topics":["queue.support.depth-changed","session.*.connected"],"from":"6f1c2a9e-1042"})");
  check_client_round_trip(subscribe_frame{"", {">"}, std::nullopt}, R"({"op":"subscribe","topics":[">"]})");
  check_client_round_trip(unsubscribe_frame{"2", {"session.*.connected"}},
                          R"({"op":"unsubscribe","req":"2","topics":["session.*.connected"]})");
  check_client_round_trip(refresh_frame{"3", "eyJ.new"}, R"({"op":"refresh","req":"3","token":"eyJ.new"})");
  check_client_round_trip(ping_frame{"4"}, R"({"op":"ping","req":"4"})");
  check_client_round_trip(ping_frame{}, R"({"op":"ping"})");
}

TEST_CASE("server frames round-trip through their canonical text", "[codec]") {
  check_server_round_trip(ready_frame{"svc-1", "acme", 1795800000, 20000, "6f1c2a9e-1043"},
                          R"({"op":"ready","sub":"svc-1","tenant":"acme","exp":1795800000,"heartbeat_ms":20000,"head":"6f1c2a9e-1043"})");
  check_server_round_trip(ready_frame{"svc-1", "acme", 1795800000, 20000, std::nullopt},
                          R"({"op":"ready","sub":"svc-1","tenant":"acme","exp":1795800000,"heartbeat_ms":20000,"head":null})");
  check_server_round_trip(subscribed_frame{"1", {"queue.>"}, "6f1c2a9e-1043"},
                          R"({"op":"subscribed","req":"1","topics":["queue.>"],"head":"6f1c2a9e-1043"})");
  check_server_round_trip(subscribed_frame{"", {}, std::nullopt}, R"({"op":"subscribed","topics":[],"head":null})");
  check_server_round_trip(replayed_frame{"1", 18446744073709551615ULL},
                          R"({"op":"replayed","req":"1","count":18446744073709551615})");
  check_server_round_trip(unsubscribed_frame{"2", {"session.*.connected"}, "requested"},
                          R"({"op":"unsubscribed","req":"2","topics":["session.*.connected"],"reason":"requested"})");
  check_server_round_trip(unsubscribed_frame{"", {"queue.>"}, "permission_revoked"},
                          R"({"op":"unsubscribed","topics":["queue.>"],"reason":"permission_revoked"})");
  check_server_round_trip(refreshed_frame{"3", 1795800900}, R"({"op":"refreshed","req":"3","exp":1795800900})");
  check_server_round_trip(pong_frame{"4"}, R"({"op":"pong","req":"4"})");
  check_server_round_trip(pong_frame{}, R"({"op":"pong"})");
  check_server_round_trip(event_frame{sample_event()}, codec::encode_event(sample_event()));
  check_server_round_trip(reset_frame{"retention_exceeded", "6f1c2a9e-10", "6f1c2a9e-1043"},
                          R"({"op":"reset","reason":"retention_exceeded","from":"6f1c2a9e-10","position":"6f1c2a9e-1043"})");
  check_server_round_trip(reset_frame{"epoch_changed", std::nullopt, std::nullopt},
                          R"({"op":"reset","reason":"epoch_changed","position":null})");
  check_server_round_trip(overflow_frame{5012, "6f1c2a9e-1043"}, R"({"op":"overflow","lag_ms":5012,"last_id":"6f1c2a9e-1043"})");
  check_server_round_trip(overflow_frame{5012, std::nullopt}, R"({"op":"overflow","lag_ms":5012})");
  check_server_round_trip(expiring_frame{1795800000, 30000}, R"({"op":"expiring","exp":1795800000,"grace_ms":30000})");
  check_server_round_trip(closing_frame{"drain", 5000}, R"({"op":"closing","reason":"drain","reconnect_after_ms":5000})");
  check_server_round_trip(error_frame{"1", "invalid_topic", "segment 2 is empty", "queue..depth"},
                          R"({"op":"error","req":"1","code":"invalid_topic","message":"segment 2 is empty","topic":"queue..depth"})");
  check_server_round_trip(error_frame{"", "bad_json", "unexpected end of input", ""},
                          R"({"op":"error","code":"bad_json","message":"unexpected end of input"})");
}

TEST_CASE("encode_event writes the CloudEvents envelope in its fixed member order", "[codec]") {
  CHECK(codec::encode_event(sample_event()) ==
        R"({"op":"event","specversion":"1.0","id":"6f1c2a9e-1043","source":"/tenants/acme/queues/support",)"
        R"("type":"queue.depth-changed","subject":"support","time":"2026-11-27T18:02:11.204Z",)"
        R"("datacontenttype":"application/json","topic":"queue.support.depth-changed","tenant":"acme",)"
        R"("data":{"queue_id":"support","depth":7,"longest_wait_seconds":42}})");

  SECTION("strings are escaped, data is spliced verbatim") {
    event ev = sample_event();
    ev.subject = std::string("a\"b\\c\n\x01\x1f/\xc3\xa9", 11);
    ev.data_json = R"({"note":"x\ny"})";
    const std::string text = codec::encode_event(ev);
    CHECK(text.find(R"("subject":"a\"b\\c\n\u0001\u001f/é")") != std::string::npos);
    CHECK(text.find(R"("data":{"note":"x\ny"}})") != std::string::npos);
    CHECK(decode_server_as<event_frame>(text).ev == ev);
  }
  SECTION("empty data_json is written as an empty object") {
    event ev = sample_event();
    ev.data_json.clear();
    const std::string text = codec::encode_event(ev);
    CHECK(text.ends_with(R"("data":{}})"));
    CHECK(decode_server_as<event_frame>(text).ev.data_json == "{}");
  }
}

TEST_CASE("decoded event data is kept as compact canonical JSON", "[codec]") {
  const std::string prefix =
      R"({"op":"event","specversion":"1.0","id":"1a-7","source":"/tenants/t1/agents/a-17","type":"agent.busy",)"
      R"("subject":"a-17","time":"2026-11-27T18:02:11.204Z","topic":"agent.a-17.busy","tenant":"t1","data":)";
  const auto ev = decode_server_as<event_frame>(
      prefix + R"({ "a" : 1.50, "b":-0.0, "c":1E3, "d":2.5e-3, "e":"\u00e9\/\"", "f":[true,false,null], "g":{}, "h":-0, "i":1e-400 }})").ev;
  CHECK(ev.data_json == R"({"a":1.5,"b":0,"c":1000,"d":0.0025,"e":"é/\"","f":[true,false,null],"g":{},"h":0,"i":0})");
  // Canonical text reads back to itself.
  CHECK(decode_server_as<event_frame>(codec::encode_event(ev)).ev.data_json == ev.data_json);
}

TEST_CASE("doubles in event data are written as JSON.stringify writes them", "[codec]") {
  const auto data_of = [](std::string_view number) {
    const std::string text =
        R"({"op":"event","specversion":"1.0","id":"1a-7","source":"s","type":"t","subject":"k","time":"x",)"
        R"("topic":"a.b.c","tenant":"t1","data":{"n":)" + std::string(number) + "}}";
    const auto decoded = codec::decode_server(text);
    REQUIRE(decoded.ok());
    return std::get<event_frame>(decoded.value()).ev.data_json;
  };
  CHECK(data_of("1e21") == R"({"n":1e+21})");
  CHECK(data_of("1e20") == R"({"n":100000000000000000000})");
  CHECK(data_of("1e-7") == R"({"n":1e-7})");
  CHECK(data_of("0.000001") == R"({"n":0.000001})");
  CHECK(data_of("123.456") == R"({"n":123.456})");
  CHECK(data_of("-1.25E-10") == R"({"n":-1.25e-10})");
  CHECK(data_of("5e-324") == R"({"n":5e-324})");
  CHECK(data_of("1.7976931348623157e308") == R"({"n":1.7976931348623157e+308})");
  CHECK(data_of("0.30000000000000004") == R"({"n":0.30000000000000004})");
  CHECK(data_of("-0.0") == R"({"n":0})");
  CHECK(data_of("4.0") == R"({"n":4})");
  // Read with correct rounding: Boost 1.81's own conversion gives another double for this one.
  CHECK(data_of("2.2250738585072011e-308") == R"({"n":2.225073858507201e-308})");
  CHECK(data_of("9007199254740993.0") == R"({"n":9007199254740992})");
  // Integers keep every digit; they are not doubles.
  CHECK(data_of("-9223372036854775808") == R"({"n":-9223372036854775808})");
  CHECK(data_of("18446744073709551615") == R"({"n":18446744073709551615})");
  CHECK(data_of("18446744073709551616") == R"({"n":18446744073709552000})");
}

TEST_CASE("unknown members are ignored in control frames and in the event envelope", "[codec]") {
  CHECK(decode_client_as<ping_frame>(R"({"op":"ping","req":"1","v2":{"x":[1,2]}})") == ping_frame{"1"});
  CHECK(decode_server_as<pong_frame>(R"({"future":true,"op":"pong"})") == pong_frame{});
  const auto ev = decode_server_as<event_frame>(
      R"({"op":"event","specversion":"1.0","id":"1a-7","source":"s","type":"t","subject":"k","time":"x","topic":"a.b.c",)"
      R"("tenant":"t1","traceparent":"00-ab-01","data":{}})").ev;
  CHECK(ev.data_json == "{}");
}

TEST_CASE("frame structure errors are bad_frame and name the member", "[codec]") {
  CHECK(client_error(R"({"req":"1"})") == error{"bad_frame", "missing member 'op'"});
  CHECK(client_error(R"({"op":true})") == error{"bad_frame", "member 'op': expected a string, got boolean"});
  CHECK(client_error(R"({"op":"dance"})") == error{"bad_frame", "member 'op': unknown op 'dance'"});
  CHECK(client_error(R"({"op":"subscribe","req":"1","topics":["a","b",3]})") ==
        error{"bad_frame", "member 'topics'[2]: expected a string, got number"});
  CHECK(client_error(R"({"op":"subscribe","req":"1","topics":[]})") ==
        error{"bad_frame", "member 'topics': expected 1 to 64 entries, got 0"});
  CHECK(client_error(R"({"op":"subscribe","topics":"a"})") ==
        error{"bad_frame", "member 'topics': expected an array, got string"});
  CHECK(client_error(R"({"op":"subscribe","topics":["a"],"from":7})") ==
        error{"bad_frame", "member 'from': expected a string, got number"});
  CHECK(client_error(R"({"op":"ping","req":""})") ==
        error{"bad_frame", "member 'req': expected 1 to 64 characters, got 0"});
  CHECK(client_error(R"({"op":"ping","req":[]})") == error{"bad_frame", "member 'req': expected a string, got array"});
  CHECK(client_error(R"({"op":"refresh","req":"1"})") == error{"bad_frame", "missing member 'token'"});
  CHECK(client_error(R"({"op":"auth","token":""})") == error{"bad_frame", "member 'token': expected a non-empty string"});
  CHECK(decode_client_as<auth_frame>(R"({"op":"auth","token":")" + std::string(16384, 't') + R"("})").token.size() == 16384);
  // A longer token is still a frame: the server's verifier refuses it as a token (invalid_token).
  CHECK(decode_client_as<auth_frame>(R"({"op":"auth","token":")" + std::string(16385, 't') + R"("})").token.size() == 16385);
  CHECK(decode_client_as<refresh_frame>(R"({"op":"refresh","req":"1","token":")" + std::string(40000, 't') + R"("})")
            .token.size() == 40000);

  CHECK(server_error(R"({"op":"ready","sub":"s","tenant":"t","exp":1.5,"heartbeat_ms":1})") ==
        error{"bad_frame", "member 'exp': expected an integer, got a number with a fraction or exponent"});
  CHECK(server_error(R"({"op":"expiring","exp":-5,"grace_ms":1})") ==
        error{"bad_frame", "member 'exp': -5 is out of range (0 to 9223372036854775807)"});
  CHECK(server_error(R"({"op":"replayed","count":null})") == error{"bad_frame", "member 'count': expected an integer, got null"});
  CHECK(server_error(R"({"op":"event","specversion":"1.0"})") == error{"bad_frame", "missing member 'id'"});
  CHECK(server_error(R"({"op":"auth","token":"x"})") == error{"bad_frame", "member 'op': unknown op 'auth'"});

  SECTION("a long op is quoted in part") {
    const error e = client_error(R"({"op":")" + std::string(100, 'z') + R"("})");
    CHECK(e.message == "member 'op': unknown op '" + std::string(32, 'z') + "...'");
  }
}

TEST_CASE("req is 1 to 64 characters, counted in code points", "[codec]") {
  std::string sixty_four_e_acute;
  for (int i = 0; i < 64; ++i) sixty_four_e_acute += "\xc3\xa9";
  CHECK(decode_client_as<ping_frame>(R"({"op":"ping","req":")" + sixty_four_e_acute + R"("})").req == sixty_four_e_acute);
  CHECK(client_error(R"({"op":"ping","req":")" + std::string(65, 'r') + R"("})").message ==
        "member 'req': expected 1 to 64 characters, got 65");
}

TEST_CASE("subscribe takes 1 to 64 topics and leaves their grammar to the server", "[codec]") {
  std::string topics;
  for (int i = 0; i < 64; ++i) topics += (i ? ",\"t" : "\"t") + std::to_string(i) + "\"";
  CHECK(decode_client_as<subscribe_frame>(R"({"op":"subscribe","topics":[)" + topics + "]}").topics.size() == 64);
  CHECK(client_error(R"({"op":"subscribe","topics":[)" + topics + R"(,"x"]})").message ==
        "member 'topics': expected 1 to 64 entries, got 65");
  CHECK(decode_client_as<subscribe_frame>(R"({"op":"subscribe","topics":["sup*",""]})").topics ==
        std::vector<std::string>{"sup*", ""});
}

TEST_CASE("duplicate member names are refused at any depth", "[codec]") {
  CHECK(client_error(R"({"op":"ping","op":"ping"})") ==
        error{"bad_json", "duplicate member name 'op' in the top-level object"});
  CHECK(client_error(R"({"op":"ping","\u006fp":"pong"})") ==
        error{"bad_json", "duplicate member name 'op' in the top-level object"});
  CHECK(client_error(R"({"op":"ping","x":{"a":{"b":[0,{"c":1,"c":2}]}}})") ==
        error{"bad_json", "duplicate member name 'c' in member 'x'.'a'.'b'[1]"});
  CHECK(server_error(R"({"op":"event","data":{"depth":1,"depth":2}})").message ==
        "duplicate member name 'depth' in member 'data'");

  SECTION("in a large object too") {
    std::string text = R"({"op":"ping")";
    for (int i = 0; i < 500; ++i) text += ",\"k" + std::to_string(i) + "\":" + std::to_string(i);
    CHECK(codec::decode_client(text + "}").ok());
    CHECK(client_error(text + R"(,"k250":0})").message == "duplicate member name 'k250' in the top-level object");
  }
  SECTION("the same name in sibling objects is fine") {
    CHECK(codec::decode_client(R"({"op":"ping","a":{"x":1},"b":[{"x":1},{"x":2}],"x":0})").ok());
  }
}

TEST_CASE("non-finite numbers are refused", "[codec]") {
  CHECK(client_error(R"({"op":"ping","x":1e999})") ==
        error{"bad_json", "member 'x': number out of range (not finite)"});
  CHECK(client_error(R"({"op":"ping","x":[1,-1e999]})") ==
        error{"bad_json", "member 'x'[1]: number out of range (not finite)"});
  CHECK(client_error(R"({"op":"ping","x":{"y":1.8e308}})").message == "member 'x'.'y': number out of range (not finite)");
  const error huge_exponent = client_error(R"({"op":"ping","x":1e99999999999999999999999})");
  CHECK(huge_exponent.code == "bad_json");
  CHECK_THAT(huge_exponent.message, Catch::Contains("out of range"));
  CHECK_FALSE(codec::check_strict_json(R"({"x":1e308,"y":-1e308,"z":1e-999})", 100).has_value());
  CHECK(codec::check_strict_json(R"({"x":NaN})", 100).has_value());
}

TEST_CASE("lone UTF-16 surrogate escapes are refused", "[codec]") {
  CHECK(client_error(R"({"op":"ping","req":"\ud800"})") == error{"bad_json", "lone UTF-16 surrogate \\ud800 at byte 20"});
  CHECK(client_error(R"({"op":"ping","req":"\uDC00"})") == error{"bad_json", "lone UTF-16 surrogate \\uDC00 at byte 20"});
  CHECK(client_error(R"({"op":"ping","req":"\ud800\u0041"})").message == "lone UTF-16 surrogate \\ud800 at byte 20");
  CHECK(client_error(R"({"op":"ping","req":"x\ud800"})").message == "lone UTF-16 surrogate \\ud800 at byte 21");
  CHECK(decode_client_as<ping_frame>(R"({"op":"ping","req":"\ud83d\ude00"})").req == "\xf0\x9f\x98\x80");
  CHECK(decode_client_as<ping_frame>(R"({"op":"ping","req":"\\ud800"})").req == "\\ud800");
}

TEST_CASE("invalid UTF-8 and a byte order mark are refused", "[codec]") {
  const char* const invalid[] = {
      "\xff",              // never valid
      "\x80",              // continuation without a lead
      "\xc0\xaf",          // overlong '/'
      "\xe0\x80\xaf",      // overlong, three bytes
      "\xed\xa0\x80",      // encoded surrogate U+D800
      "\xf4\x90\x80\x80",  // above U+10FFFF
      "\xe2\x82",          // truncated
  };
  for (const char* bytes : invalid) {
    const std::string text = std::string(R"({"op":"ping","req":")") + bytes + R"("})";
    INFO(text);
    CHECK(client_error(text) == error{"bad_json", "invalid UTF-8 at byte 20"});
  }
  CHECK(client_error("{\"op\":\"ping\",\"\xfe\":1}").message == "invalid UTF-8 at byte 14");
  CHECK(client_error("\xef\xbb\xbf{\"op\":\"ping\"}") == error{"bad_json", "byte order mark at the start is not allowed"});
  CHECK(decode_client_as<ping_frame>("{\"op\":\"ping\",\"req\":\"\xe2\x82\xac\xef\xbf\xbf\xf4\x8f\xbf\xbf\"}").req ==
        "\xe2\x82\xac\xef\xbf\xbf\xf4\x8f\xbf\xbf");
}

TEST_CASE("JSON syntax, top level and trailing data", "[codec]") {
  CHECK(client_error(R"([{"op":"ping"}])") == error{"bad_json", "expected a JSON object at the top level, got array"});
  CHECK(client_error(R"("ping")") == error{"bad_json", "expected a JSON object at the top level, got string"});
  CHECK(client_error("42") == error{"bad_json", "expected a JSON object at the top level, got number"});
  CHECK(client_error("true") == error{"bad_json", "expected a JSON object at the top level, got boolean"});
  CHECK(client_error("") == error{"bad_json", "unexpected end of input"});
  CHECK(client_error(R"({"op":"ping")") == error{"bad_json", "unexpected end of input"});
  CHECK(client_error(R"({"op":"ping"}{})") == error{"bad_json", "unexpected data after the JSON object at byte 13"});
  CHECK(client_error(R"({"op":"ping"} x)") == error{"bad_json", "unexpected data after the JSON object at byte 14"});
  CHECK(decode_client_as<ping_frame>(" \t{\"op\":\"ping\"}\r\n ") == ping_frame{});
  for (const char* text : {R"({"op":"ping",})", R"({"op":"ping"/**/})", "{'op':'ping'}", R"({"op":"ping","x":01})",
                           "{\"op\":\"ping\",\"req\":\"a\tb\"}", R"({"op":"ping","x":Infinity})"}) {
    INFO(text);
    const error e = client_error(text);
    CHECK(e.code == "bad_json");
    CHECK_THAT(e.message, Catch::StartsWith("invalid JSON"));
  }
}

TEST_CASE("nesting deeper than 64 levels is refused", "[codec]") {
  CHECK(decode_client_as<ping_frame>(nested_arrays(64)) == ping_frame{});
  CHECK(client_error(nested_arrays(65)) == error{"bad_json", "nested deeper than 64 levels"});
  CHECK(client_error(nested_arrays(5000)) == error{"bad_json", "nested deeper than 64 levels"});
}

TEST_CASE("frames over the size limits are refused", "[codec]") {
  const auto padded = [](std::size_t total) {
    const std::string head = R"({"op":"ping","pad":")";
    return head + std::string(total - head.size() - 2, 'x') + "\"}";
  };
  CHECK(decode_client_as<ping_frame>(padded(codec::max_client_frame_bytes)) == ping_frame{});
  CHECK(client_error(padded(codec::max_client_frame_bytes + 1)) ==
        error{"bad_json", "input of 65537 bytes is larger than the limit of 65536 bytes"});

  const auto padded_pong = [](std::size_t total) {
    const std::string head = R"({"op":"pong","pad":")";
    return head + std::string(total - head.size() - 2, 'x') + "\"}";
  };
  CHECK(decode_server_as<pong_frame>(padded_pong(codec::max_server_frame_bytes)) == pong_frame{});
  CHECK(server_error(padded_pong(codec::max_server_frame_bytes + 1)).message ==
        "input of 1048577 bytes is larger than the limit of 1048576 bytes");
}

TEST_CASE("check_strict_json applies the same rules with the caller's limit", "[codec]") {
  CHECK_FALSE(codec::check_strict_json(R"({"a":[1,{"b":null}],"c":"\u00e9"})", 100).has_value());
  CHECK(codec::check_strict_json(R"({"a":1})", 6) == error{"bad_json", "input of 7 bytes is larger than the limit of 6 bytes"});
  CHECK(codec::check_strict_json(R"({"a":1,"a":1})", 100) ==
        error{"bad_json", "duplicate member name 'a' in the top-level object"});
  CHECK(codec::check_strict_json("[]", 100) == error{"bad_json", "expected a JSON object at the top level, got array"});
  CHECK(codec::check_strict_json(R"({"n":-1e999})", 100) == error{"bad_json", "member 'n': number out of range (not finite)"});
}

TEST_CASE("jwt_expiry reads an integer exp without verifying the token", "[codec]") {
  CHECK(codec::jwt_expiry(jwt_with_payload(R"({"sub":"svc-1","exp":1795800000,"iat":1795799100})")) == 1795800000);
  CHECK(codec::jwt_expiry(jwt_with_payload(R"({"exp":9223372036854775807})")) == 9223372036854775807LL);
  CHECK(codec::jwt_expiry(jwt_with_payload(R"({"exp":0})")) == 0);
  // Every payload length modulo 3, so every base64url tail length is exercised.
  CHECK(codec::jwt_expiry(jwt_with_payload(R"({"exp":1})")) == 1);
  CHECK(codec::jwt_expiry(jwt_with_payload(R"({"exp":12})")) == 12);
  CHECK(codec::jwt_expiry(jwt_with_payload(R"({"exp":123})")) == 123);
  CHECK(codec::jwt_expiry("eyJhbGciOiJub25lIn0." + base64url(R"({"exp":5})") + ".") == 5);

  CHECK_FALSE(codec::jwt_expiry(jwt_with_payload(R"({"sub":"x"})")));
  CHECK_FALSE(codec::jwt_expiry(jwt_with_payload(R"({"exp":"1795800000"})")));
  CHECK_FALSE(codec::jwt_expiry(jwt_with_payload(R"({"exp":1795800000.5})")));
  CHECK_FALSE(codec::jwt_expiry(jwt_with_payload(R"({"exp":9223372036854775808})")));
  CHECK_FALSE(codec::jwt_expiry(jwt_with_payload(R"({"exp":1,"exp":2})")));
  CHECK_FALSE(codec::jwt_expiry(jwt_with_payload(R"([1795800000])")));
  CHECK_FALSE(codec::jwt_expiry(jwt_with_payload("not json")));
  CHECK_FALSE(codec::jwt_expiry(""));
  CHECK_FALSE(codec::jwt_expiry("abc"));
  CHECK_FALSE(codec::jwt_expiry("a.b"));
  CHECK_FALSE(codec::jwt_expiry(jwt_with_payload(R"({"exp":1})") + ".extra"));
  CHECK_FALSE(codec::jwt_expiry("eyJ." + base64url(R"({"exp":1})") + "=.sig"));   // padding is not base64url
  CHECK_FALSE(codec::jwt_expiry("eyJ.eyJ+ZXhwIjoxfQ.sig"));                       // '+' is not base64url
  CHECK_FALSE(codec::jwt_expiry("eyJ.a.sig"));                                    // one digit is no byte
  CHECK_FALSE(codec::jwt_expiry("eyJ..sig"));
}

// tests/vectors/frames.json is shared with the wasm runner; checking it here keeps it honest.
TEST_CASE("frames.json vectors hold for the native codec", "[codec]") {
  std::ifstream file(GLOBEMEET_VECTORS_DIR "/frames.json", std::ios::binary);
  REQUIRE(file);
  std::stringstream contents;
  contents << file.rdbuf();
  const boost::json::object vectors = boost::json::parse(contents.str()).as_object();

  const auto input_of = [](const boost::json::object& entry) -> std::string {
    if (const auto* b64 = entry.if_contains("input_base64")) return decode_base64(b64->as_string());
    return std::string(entry.at("input").as_string());
  };

  std::size_t checked = 0;
  const auto run = [&](const char* section, auto decode, auto encode) {
    for (const auto& item : vectors.at(section).as_array()) {
      const auto& entry = item.as_object();
      const std::string input = input_of(entry);
      INFO(section << ": " << std::string(entry.at("name").as_string()));
      const auto decoded = decode(input);
      if (entry.at("ok").as_bool()) {
        INFO((decoded.ok() ? std::string() : decoded.err().message));
        REQUIRE(decoded.ok());
        const std::string canonical(entry.at("canonical").as_string());
        CHECK(encode(decoded.value()) == canonical);
        const auto again = decode(canonical);
        REQUIRE(again.ok());
        CHECK(encode(again.value()) == canonical);
      } else {
        REQUIRE_FALSE(decoded.ok());
        CHECK(decoded.err().code == std::string(entry.at("code").as_string()));
        CHECK_THAT(decoded.err().message, Catch::Contains(std::string(entry.at("message_contains").as_string())));
      }
      ++checked;
    }
  };
  run("client", [](std::string_view t) { return codec::decode_client(t); },
      [](const client_frame& f) { return codec::encode(f); });
  run("server", [](std::string_view t) { return codec::decode_server(t); },
      [](const server_frame& f) { return codec::encode(f); });

  for (const auto& item : vectors.at("strict_json").as_array()) {
    const auto& entry = item.as_object();
    INFO("strict_json: " << std::string(entry.at("name").as_string()));
    const std::size_t max_bytes = entry.contains("max_bytes")
                                      ? static_cast<std::size_t>(entry.at("max_bytes").as_int64())
                                      : codec::max_client_frame_bytes;
    const auto problem = codec::check_strict_json(input_of(entry), max_bytes);
    if (entry.at("ok").as_bool()) {
      INFO((problem ? problem->message : std::string()));
      CHECK_FALSE(problem.has_value());
    } else {
      REQUIRE(problem.has_value());
      CHECK(problem->code == "bad_json");
      CHECK_THAT(problem->message, Catch::Contains(std::string(entry.at("message_contains").as_string())));
    }
    ++checked;
  }
  CHECK(checked >= 60);
}
