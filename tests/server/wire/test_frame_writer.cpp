#include <catch2/catch.hpp>

#include <string>

#include "client_frames.hpp"
#include "globemeet/server/wire/frame_writer.hpp"

namespace wire = globemeet::server::wire;
using kind = wire::frame_event::kind;

namespace {

std::string bytes_of(const wire::frame_header& header) { return std::string(header.view()); }

// Turns an unmasked server frame into the same frame masked, so the client-frame parser can
// read back what the writer produced.
std::string masked_copy(const std::string& server_frame) {
  REQUIRE(server_frame.size() >= 2);
  const auto length7 = static_cast<std::uint8_t>(server_frame[1]) & 0x7F;
  const std::size_t header_size = length7 == 126 ? 4 : length7 == 127 ? 10 : 2;
  const std::array<std::uint8_t, 4> mask{0xA1, 0x02, 0x7C, 0xFF};
  std::string out = server_frame.substr(0, header_size);
  out[1] = static_cast<char>(static_cast<std::uint8_t>(out[1]) | 0x80);
  for (const auto b : mask) out.push_back(static_cast<char>(b));
  for (std::size_t i = header_size; i < server_frame.size(); ++i) {
    out.push_back(static_cast<char>(static_cast<std::uint8_t>(server_frame[i]) ^ mask[(i - header_size) % 4]));
  }
  return out;
}

}  // namespace

TEST_CASE("header_for uses the shortest length encoding", "[frame_writer]") {
  CHECK(bytes_of(wire::header_for(0, wire::opcode::text)) == std::string("\x81\x00", 2));
  CHECK(bytes_of(wire::header_for(5, wire::opcode::text)) == "\x81\x05");
  CHECK(bytes_of(wire::header_for(125, wire::opcode::text)) == "\x81\x7d");
  CHECK(bytes_of(wire::header_for(126, wire::opcode::text)) == std::string("\x81\x7e\x00\x7e", 4));
  CHECK(bytes_of(wire::header_for(65535, wire::opcode::text)) == "\x81\x7e\xff\xff");
  CHECK(bytes_of(wire::header_for(65536, wire::opcode::text)) ==
        std::string("\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10));
  CHECK(bytes_of(wire::header_for(0x0102030405ULL, wire::opcode::text)) ==
        std::string("\x81\x7f\x00\x00\x00\x01\x02\x03\x04\x05", 10));
}

TEST_CASE("header_for sets FIN and the opcode, never the mask", "[frame_writer]") {
  CHECK(bytes_of(wire::header_for(1, wire::opcode::ping)) == "\x89\x01");
  CHECK(bytes_of(wire::header_for(1, wire::opcode::pong)) == "\x8a\x01");
  CHECK(bytes_of(wire::header_for(2, wire::opcode::close)) == "\x88\x02");
  CHECK(bytes_of(wire::header_for(200, wire::opcode::binary)) == std::string("\x82\x7e\x00\xc8", 4));
  CHECK(wire::header_for(7, wire::opcode::text).size() == 2);
  CHECK(wire::header_for(7, wire::opcode::text).data()[0] == 0x81);
}

TEST_CASE("a gathered header plus payload equals the appended frame", "[frame_writer]") {
  for (const std::size_t size : {0u, 1u, 125u, 126u, 1000u, 65535u, 65536u, 70000u}) {
    const std::string payload(size, 'e');
    std::string appended;
    wire::append_text_frame(appended, payload);
    CHECK(appended == bytes_of(wire::header_for(size, wire::opcode::text)) + payload);
  }
}

TEST_CASE("append_text_frame appends to what is already queued", "[frame_writer]") {
  std::string out = "queued";
  wire::append_text_frame(out, "{\"op\":\"pong\"}");
  CHECK(out == std::string("queued\x81\x0d{\"op\":\"pong\"}"));
}

TEST_CASE("written frames read back through the parser", "[frame_writer]") {
  std::string out;
  wire::append_text_frame(out, "{\"op\":\"ready\"}");
  wire::append_text_frame(out, std::string(300, 'z'));
  wire::append_ping_frame(out, "hb");
  wire::append_pong_frame(out, "echo");
  wire::append_close_frame(out, 1001, "going away");

  std::string masked;
  std::size_t at = 0;
  while (at < out.size()) {
    const auto length7 = static_cast<std::uint8_t>(out[at + 1]) & 0x7F;
    std::size_t header = 2, length = length7;
    if (length7 == 126) {
      header = 4;
      length = (std::size_t{static_cast<std::uint8_t>(out[at + 2])} << 8) | static_cast<std::uint8_t>(out[at + 3]);
    }
    masked += masked_copy(out.substr(at, header + length));
    at += header + length;
  }
  const auto events = wire_test::parse(masked);
  REQUIRE(events.size() == 5);
  CHECK(events[0].payload == "{\"op\":\"ready\"}");
  CHECK(events[1].payload == std::string(300, 'z'));
  CHECK(events[2].type == kind::ping);
  CHECK(events[2].payload == "hb");
  CHECK(events[3].type == kind::pong);
  CHECK(events[3].payload == "echo");
  CHECK(events[4].type == kind::close);
  CHECK(events[4].code == 1001);
  CHECK(events[4].payload == "going away");
}

TEST_CASE("ping and pong payloads are cut to 125 bytes", "[frame_writer]") {
  std::string ping;
  wire::append_ping_frame(ping, std::string(200, 'p'));
  CHECK(ping == "\x89\x7d" + std::string(125, 'p'));
  std::string pong;
  wire::append_pong_frame(pong, std::string(126, 'q'));
  CHECK(pong == "\x8a\x7d" + std::string(125, 'q'));
  std::string empty_ping;
  wire::append_ping_frame(empty_ping);
  CHECK(empty_ping == std::string("\x89\x00", 2));
}

TEST_CASE("close frames carry the code big-endian and a bounded UTF-8 reason", "[frame_writer]") {
  SECTION("code and reason") {
    std::string out;
    wire::append_close_frame(out, 4000, "overflow");
    CHECK(out == std::string("\x88\x0a\x0f\xa0overflow", 12));
  }
  SECTION("code only") {
    std::string out;
    wire::append_close_frame(out, 1000);
    CHECK(out == std::string("\x88\x02\x03\xe8", 4));
  }
  SECTION("no_status writes an empty close") {
    std::string out;
    wire::append_close_frame(out, wire::close_code::no_status, "ignored");
    CHECK(out == std::string("\x88\x00", 2));
  }
  SECTION("a long ASCII reason is cut to 123 bytes") {
    std::string out;
    wire::append_close_frame(out, 1008, std::string(200, 'r'));
    REQUIRE(out.size() == 2 + 125);
    CHECK(out[1] == '\x7d');
    CHECK(out.substr(4) == std::string(123, 'r'));
  }
  SECTION("the cut never splits a character") {
    // 122 ASCII bytes, then a 2-byte character straddling the 123-byte limit.
    std::string out;
    wire::append_close_frame(out, 1008, std::string(122, 'r') + "\xc3\xa9" + "tail");
    CHECK(out.substr(4) == std::string(122, 'r'));
    // 120 ASCII bytes and a 4-byte character ending at byte 124.
    std::string out4;
    wire::append_close_frame(out4, 1008, std::string(120, 'r') + "\xf0\x9f\x98\x80");
    CHECK(out4.substr(4) == std::string(120, 'r'));
    // A 3-byte character ending exactly at the limit is kept.
    std::string exact;
    wire::append_close_frame(exact, 1008, std::string(120, 'r') + "\xe2\x9c\x93" + "more");
    CHECK(exact.substr(4) == std::string(120, 'r') + "\xe2\x9c\x93");
  }
}
