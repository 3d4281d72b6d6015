// Random and mutated input must never crash the parser or break its contract, and the events
// must not depend on how the bytes were split into reads. Seeded, so failures reproduce.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "client_frames.hpp"
#include "globemeet/server/wire/frame_parser.hpp"
#include "globemeet/server/wire/utf8.hpp"

using namespace wire_test;
using kind = wire::frame_event::kind;

namespace {

// The contract every event sequence keeps, whatever the input.
void check_contract(const std::vector<wire::frame_event>& events, const wire::parser_limits& limits) {
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& event = events[i];
    const bool terminal = event.type == kind::close || event.type == kind::protocol_error;
    if (terminal) REQUIRE(i + 1 == events.size());
    switch (event.type) {
      case kind::text:
        REQUIRE(event.payload.size() <= limits.max_message_size);
        REQUIRE(wire::is_valid_utf8(event.payload));
        break;
      case kind::ping:
      case kind::pong:
        REQUIRE(event.payload.size() <= wire::max_control_payload);
        break;
      case kind::close:
        REQUIRE((event.code == wire::close_code::no_status || wire::is_valid_close_code(event.code)));
        REQUIRE(event.payload.size() <= wire::max_close_reason);
        REQUIRE(wire::is_valid_utf8(event.payload));
        break;
      case kind::protocol_error:
        REQUIRE((event.code == wire::close_code::protocol_error || event.code == wire::close_code::unsupported_data ||
                 event.code == wire::close_code::invalid_payload || event.code == wire::close_code::message_too_big));
        break;
    }
  }
}

std::vector<std::size_t> random_cuts(std::mt19937& rng, std::size_t size) {
  std::vector<std::size_t> cuts;
  std::size_t at = 0;
  while (true) {
    at += std::uniform_int_distribution<std::size_t>(1, 16)(rng);
    if (at >= size) return cuts;
    cuts.push_back(at);
  }
}

std::string random_bytes(std::mt19937& rng, std::size_t size) {
  std::uniform_int_distribution<int> byte(0, 255);
  std::string out(size, '\0');
  for (auto& c : out) c = static_cast<char>(byte(rng));
  return out;
}

// A stream of mostly well-formed frames, so mutations reach deep into the parser's states.
std::string plausible_stream(std::mt19937& rng) {
  static const std::vector<std::string> payloads = {"", "{\"op\":\"ping\"}", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
                                                    std::string(130, 'w'), "\xed\xa0\x80", "\x03\xe8ok"};
  std::uniform_int_distribution<std::size_t> pick(0, payloads.size() - 1);
  std::uniform_int_distribution<int> coin(0, 3);
  const std::uint8_t opcodes[] = {0x0, 0x1, 0x1, 0x1, 0x2, 0x8, 0x9, 0xA};
  std::uniform_int_distribution<std::size_t> pick_opcode(0, sizeof opcodes - 1);
  std::string out;
  const int frames = std::uniform_int_distribution<int>(1, 6)(rng);
  for (int i = 0; i < frames; ++i) {
    frame_spec spec;
    spec.opcode = opcodes[pick_opcode(rng)];
    spec.fin = coin(rng) != 0;
    spec.mask = {static_cast<std::uint8_t>(rng()), static_cast<std::uint8_t>(rng()),
                 static_cast<std::uint8_t>(rng()), static_cast<std::uint8_t>(rng())};
    out += encode(spec, payloads[pick(rng)]);
  }
  return out;
}

void mutate(std::mt19937& rng, std::string& bytes) {
  if (bytes.empty()) return;
  const int edits = std::uniform_int_distribution<int>(0, 3)(rng);
  for (int i = 0; i < edits; ++i) {
    const std::size_t at = std::uniform_int_distribution<std::size_t>(0, bytes.size() - 1)(rng);
    bytes[at] = static_cast<char>(static_cast<std::uint8_t>(bytes[at]) ^ (1u << (rng() % 8)));
  }
  if (std::uniform_int_distribution<int>(0, 4)(rng) == 0) {
    bytes.resize(std::uniform_int_distribution<std::size_t>(0, bytes.size())(rng));
  }
}

}  // namespace

TEST_CASE("random bytes never crash the parser and give split-independent events", "[fuzz]") {
  std::mt19937 rng(20261127);
  wire::parser_limits limits;
  limits.max_message_size = 512;  // small, so random lengths hit both sides of the limit
  for (int round = 0; round < 3000; ++round) {
    const std::string input = random_bytes(rng, std::uniform_int_distribution<std::size_t>(0, 300)(rng));
    const auto whole = parse(input, limits);
    check_contract(whole, limits);
    REQUIRE(same_events(parse_in_parts(input, random_cuts(rng, input.size()), limits), whole));
  }
}

TEST_CASE("mutated plausible streams never crash the parser and give split-independent events", "[fuzz]") {
  std::mt19937 rng(6455);
  wire::parser_limits limits;
  limits.max_message_size = 300;
  std::size_t messages = 0, errors = 0;
  for (int round = 0; round < 5000; ++round) {
    std::string input = plausible_stream(rng);
    mutate(rng, input);
    const auto whole = parse(input, limits);
    check_contract(whole, limits);
    REQUIRE(same_events(parse_in_parts(input, random_cuts(rng, input.size()), limits), whole));
    for (const auto& event : whole) {
      if (event.type == kind::text) ++messages;
      if (event.type == kind::protocol_error) ++errors;
    }
  }
  // The generator reaches both complete messages and each kind of failure.
  CHECK(messages > 100);
  CHECK(errors > 100);
}
