#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>

#include "client_frames.hpp"
#include "globemeet/server/wire/frame_parser.hpp"

using namespace wire_test;
using kind = wire::frame_event::kind;

namespace {

void require_error(const std::vector<wire::frame_event>& events, std::uint16_t code) {
  REQUIRE_FALSE(events.empty());
  CHECK(events.back().type == kind::protocol_error);
  CHECK(events.back().code == code);
}

void require_single_text(const std::vector<wire::frame_event>& events, std::string_view payload) {
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == kind::text);
  CHECK(events[0].payload == payload);
}

}  // namespace

TEST_CASE("the RFC 6455 masked Hello frame parses to one text message", "[frame_parser]") {
  const std::string rfc_example = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
  require_single_text(parse(rfc_example), "Hello");
}

TEST_CASE("an unmasked client frame is a protocol error", "[frame_parser]") {
  frame_spec spec;
  spec.masked = false;
  const auto events = parse(encode(spec, "Hello"));
  REQUIRE(events.size() == 1);
  require_error(events, wire::close_code::protocol_error);
  SECTION("detected from the first two bytes alone") {
    require_error(parse(encode(spec, "Hello").substr(0, 2)), wire::close_code::protocol_error);
  }
}

TEST_CASE("reserved bits without an extension are a protocol error", "[frame_parser]") {
  for (std::uint8_t rsv = 1; rsv <= 7; ++rsv) {
    frame_spec spec;
    spec.rsv = rsv;
    INFO("rsv " << int{rsv});
    require_error(parse(encode(spec, "x")), wire::close_code::protocol_error);
  }
}

TEST_CASE("unknown opcodes are a protocol error", "[frame_parser]") {
  for (const int op : {0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    INFO("opcode " << op);
    require_error(parse(frame(static_cast<std::uint8_t>(op), "")), wire::close_code::protocol_error);
  }
}

TEST_CASE("ping and pong frames are reported with their payload", "[frame_parser]") {
  const auto events = parse(frame(0x9, "are you there") + frame(0xA, "yes") + frame(0x9, ""));
  REQUIRE(events.size() == 3);
  CHECK(events[0].type == kind::ping);
  CHECK(events[0].payload == "are you there");
  CHECK(events[1].type == kind::pong);
  CHECK(events[1].payload == "yes");
  CHECK(events[2].type == kind::ping);
  CHECK(events[2].payload.empty());
}

TEST_CASE("control frames are limited to 125 bytes and may not be fragmented", "[frame_parser]") {
  SECTION("125 bytes is allowed") {
    const auto events = parse(frame(0x9, std::string(125, 'p')));
    REQUIRE(events.size() == 1);
    CHECK(events[0].payload.size() == 125);
  }
  SECTION("126 bytes is a protocol error") {
    require_error(parse(frame(0x9, std::string(126, 'p'))), wire::close_code::protocol_error);
  }
  SECTION("a 16-bit length on a control frame is a protocol error even when small") {
    frame_spec spec;
    spec.opcode = 0xA;
    spec.length_bytes = 2;
    require_error(parse(encode(spec, "x")), wire::close_code::protocol_error);
  }
  SECTION("a fragmented ping is a protocol error") {
    require_error(parse(frame(0x9, "x", false)), wire::close_code::protocol_error);
  }
  SECTION("a fragmented close is a protocol error") {
    require_error(parse(frame(0x8, close_payload(1000), false)), wire::close_code::protocol_error);
  }
}

TEST_CASE("fragmented text messages are reassembled", "[frame_parser]") {
  SECTION("two fragments") {
    require_single_text(parse(text("Hel", false) + continuation("lo")), "Hello");
  }
  SECTION("many fragments, some empty") {
    require_single_text(parse(text("", false) + continuation("a", false) + continuation("", false) +
                              continuation("b", false) + continuation("")),
                        "ab");
  }
  SECTION("control frames may come between fragments") {
    const auto events = parse(text("Hel", false) + frame(0x9, "p1") + continuation("l", false) +
                              frame(0xA, "p2") + continuation("o"));
    REQUIRE(events.size() == 3);
    CHECK(events[0].type == kind::ping);
    CHECK(events[1].type == kind::pong);
    CHECK(events[2].type == kind::text);
    CHECK(events[2].payload == "Hello");
  }
  SECTION("messages follow one another") {
    const auto events = parse(text("one") + text("t", false) + continuation("wo") + text("three"));
    REQUIRE(events.size() == 3);
    CHECK(events[0].payload == "one");
    CHECK(events[1].payload == "two");
    CHECK(events[2].payload == "three");
  }
  SECTION("an empty text message") {
    require_single_text(parse(text("")), "");
  }
}

TEST_CASE("fragmentation rules are enforced", "[frame_parser]") {
  SECTION("a continuation without a message in progress") {
    require_error(parse(continuation("x")), wire::close_code::protocol_error);
  }
  SECTION("a continuation after a complete message") {
    require_error(parse(text("done") + continuation("x")), wire::close_code::protocol_error);
  }
  SECTION("a new text frame inside a fragmented message") {
    require_error(parse(text("a", false) + text("b")), wire::close_code::protocol_error);
  }
  SECTION("a binary frame inside a fragmented text message") {
    require_error(parse(text("a", false) + frame(0x2, "b")), wire::close_code::protocol_error);
  }
}

TEST_CASE("binary messages are refused with 1003", "[frame_parser]") {
  require_error(parse(frame(0x2, "\x01\x02")), wire::close_code::unsupported_data);
  require_error(parse(frame(0x2, "\x01", false)), wire::close_code::unsupported_data);
  require_error(parse(text("ok") + frame(0x2, "")), wire::close_code::unsupported_data);
}

TEST_CASE("payload lengths must be minimally encoded", "[frame_parser]") {
  SECTION("16-bit form for a short payload") {
    frame_spec spec;
    spec.length_bytes = 2;
    require_error(parse(encode(spec, "short")), wire::close_code::protocol_error);
  }
  SECTION("64-bit form for a payload that fits 16 bits") {
    frame_spec spec;
    spec.length_bytes = 8;
    require_error(parse(encode(spec, std::string(200, 'a'))), wire::close_code::protocol_error);
  }
  SECTION("a 64-bit length with its top bit set") {
    std::string bytes = "\x81\xFF";
    bytes += std::string("\x80\x00\x00\x00\x00\x00\x00\x01", 8);
    bytes += "\x01\x02\x03\x04";
    require_error(parse(bytes), wire::close_code::protocol_error);
  }
  SECTION("16- and 64-bit lengths parse when minimal") {
    wire::parser_limits limits;
    limits.max_message_size = 100000;
    const std::string medium(300, 'm');
    const std::string large(70000, 'L');
    const auto events = parse(text(medium) + text(large), limits);
    REQUIRE(events.size() == 2);
    CHECK(events[0].payload == medium);
    CHECK(events[1].payload == large);
  }
}

TEST_CASE("messages over the size limit close with 1009", "[frame_parser]") {
  SECTION("the default limit is 65,536 bytes") {
    require_single_text(parse(text(std::string(65536, 'a'))), std::string(65536, 'a'));
    require_error(parse(text(std::string(65537, 'a'))), wire::close_code::message_too_big);
  }
  SECTION("the limit applies across fragments") {
    const std::string half(32768, 'h');
    require_single_text(parse(text(half, false) + continuation(half)), half + half);
    require_error(parse(text(half, false) + continuation(half, false) + continuation("x")),
                  wire::close_code::message_too_big);
  }
  SECTION("an oversized frame fails from its header, before its payload arrives") {
    const std::string header = text(std::string(70000, 'a')).substr(0, 14);
    require_error(parse(header), wire::close_code::message_too_big);
  }
  SECTION("a configured limit") {
    wire::parser_limits limits;
    limits.max_message_size = 10;
    require_single_text(parse(text("0123456789"), limits), "0123456789");
    require_error(parse(text("01234567890"), limits), wire::close_code::message_too_big);
    require_error(parse(text("01234", false) + continuation("567890"), limits), wire::close_code::message_too_big);
  }
  SECTION("control frames do not count towards the message") {
    wire::parser_limits limits;
    limits.max_message_size = 4;
    const auto events = parse(text("ab", false) + frame(0x9, "a long ping payload") + continuation("cd"), limits);
    REQUIRE(events.size() == 2);
    CHECK(events[1].payload == "abcd");
  }
}

TEST_CASE("text must be valid UTF-8, checked across fragments", "[frame_parser]") {
  SECTION("valid multi-byte text") {
    require_single_text(parse(text("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")), "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5");
  }
  SECTION("a code point split between fragments") {
    require_single_text(parse(text("\xf0\x9f", false) + continuation("\x98\x80")), "\xf0\x9f\x98\x80");
  }
  SECTION("an invalid byte fails before the message is complete") {
    const auto events = parse(text("ok\xff", false));
    require_error(events, wire::close_code::invalid_payload);
  }
  SECTION("an overlong encoding") {
    require_error(parse(text("\xc0\xaf")), wire::close_code::invalid_payload);
  }
  SECTION("a surrogate") {
    require_error(parse(text("\xed\xa0\x80")), wire::close_code::invalid_payload);
  }
  SECTION("a message ending inside a sequence") {
    require_error(parse(text("abc\xe2\x82")), wire::close_code::invalid_payload);
    require_error(parse(text("abc", false) + continuation("\xe2\x82")), wire::close_code::invalid_payload);
  }
}

TEST_CASE("close frames", "[frame_parser]") {
  SECTION("an empty close reports no status") {
    const auto events = parse(frame(0x8, ""));
    REQUIRE(events.size() == 1);
    CHECK(events[0].type == kind::close);
    CHECK(events[0].code == wire::close_code::no_status);
    CHECK(events[0].payload.empty());
  }
  SECTION("a code and a reason") {
    const auto events = parse(frame(0x8, close_payload(1000, "bye \xe2\x9c\x93")));
    REQUIRE(events.size() == 1);
    CHECK(events[0].type == kind::close);
    CHECK(events[0].code == 1000);
    CHECK(events[0].payload == "bye \xe2\x9c\x93");
  }
  SECTION("a one-byte payload is a protocol error") {
    require_error(parse(frame(0x8, "\x03")), wire::close_code::protocol_error);
  }
  SECTION("valid codes") {
    for (const std::uint16_t code : std::initializer_list<std::uint16_t>{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                               3000, 3999, 4000, 4001, 4401, 4999}) {
      INFO("code " << code);
      const auto events = parse(frame(0x8, close_payload(code)));
      REQUIRE(events.size() == 1);
      CHECK(events[0].type == kind::close);
      CHECK(events[0].code == code);
    }
  }
  SECTION("invalid codes are a protocol error") {
    for (const std::uint16_t code : std::initializer_list<std::uint16_t>{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
      INFO("code " << code);
      require_error(parse(frame(0x8, close_payload(code))), wire::close_code::protocol_error);
    }
  }
  SECTION("a reason that is not UTF-8 is a protocol error") {
    require_error(parse(frame(0x8, close_payload(1000, "\xff"))), wire::close_code::protocol_error);
  }
  SECTION("a close may come inside a fragmented message, which is dropped") {
    const auto events = parse(text("partial", false) + frame(0x8, close_payload(1001)));
    REQUIRE(events.size() == 1);
    CHECK(events[0].type == kind::close);
    CHECK(events[0].code == 1001);
  }
}

TEST_CASE("after a close or an error the parser ignores further input", "[frame_parser]") {
  wire::frame_parser parser;
  std::vector<wire::frame_event> events;
  parser.feed(frame(0x8, close_payload(1000)) + text("late"), events);
  REQUIRE(events.size() == 1);
  CHECK(parser.finished());
  parser.feed(text("later"), events);
  CHECK(events.size() == 1);

  wire::frame_parser failed;
  std::vector<wire::frame_event> failed_events;
  failed.feed(continuation("x") + text("ok"), failed_events);
  failed.feed(text("ok"), failed_events);
  REQUIRE(failed_events.size() == 1);
  CHECK(failed_events[0].type == kind::protocol_error);
  CHECK(failed.finished());
}

TEST_CASE("a stream split at every byte boundary yields the same events", "[frame_parser]") {
  frame_spec odd_mask;
  odd_mask.mask = {0x01, 0x80, 0xff, 0x5a};
  odd_mask.opcode = 0x0;
  odd_mask.fin = false;
  const std::string stream = text("{\"op\":\"ping\",", false) + frame(0x9, "hb") +
                             encode(odd_mask, "\"req\":\"\xe2\x82") + continuation("\xac\"}") +
                             text(std::string(300, 'x')) + frame(0xA, "") + text("") +
                             frame(0x8, close_payload(1000, "done"));
  const auto whole = parse(stream);
  REQUIRE(whole.size() == 6);
  CHECK(whole[0].type == kind::ping);
  CHECK(whole[1].payload == "{\"op\":\"ping\",\"req\":\"\xe2\x82\xac\"}");
  CHECK(whole[2].payload == std::string(300, 'x'));
  CHECK(whole[3].type == kind::pong);
  CHECK(whole[4].payload.empty());
  CHECK(whole[5].type == kind::close);

  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    INFO("cut at " << cut);
    REQUIRE(same_events(parse_in_parts(stream, {cut}), whole));
  }
  std::vector<std::size_t> every_byte;
  for (std::size_t i = 1; i < stream.size(); ++i) every_byte.push_back(i);
  CHECK(same_events(parse_in_parts(stream, every_byte), whole));
}

TEST_CASE("errors are found at the same point however the input is split", "[frame_parser]") {
  const std::string stream = text("ab", false) + frame(0x9, "p") + continuation("c\xed\xa0\x80", true);
  const auto whole = parse(stream);
  REQUIRE(whole.size() == 2);
  CHECK(whole[1].code == wire::close_code::invalid_payload);
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    INFO("cut at " << cut);
    CHECK(same_events(parse_in_parts(stream, {cut}), whole));
  }
}
