// The WebSocket frame parser (server/wire) on arbitrary client bytes. Checks: the events do not
// depend on how the bytes are split across reads; every message re-encoded as one frame parses
// back to the same event; text and close reasons are UTF-8, close codes valid; a first frame that
// is complete on its own re-encodes to its own bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "client_frames.hpp"
#include "globemeet/server/wire/frame_parser.hpp"

namespace wire = globemeet::server::wire;
using kind = wire::frame_event::kind;

namespace {

// Small enough that the fuzzer reaches "message too big" (1009) with short inputs.
constexpr wire::parser_limits limits{512};

bool same(const std::vector<wire::frame_event>& a, const std::vector<wire::frame_event>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].type != b[i].type || a[i].code != b[i].code || a[i].payload != b[i].payload) return false;
  }
  return true;
}

std::uint8_t opcode_of(kind k) {
  switch (k) {
    case kind::text: return 0x1;
    case kind::close: return 0x8;
    case kind::ping: return 0x9;
    case kind::pong: return 0xA;
    case kind::protocol_error: break;
  }
  return 0;
}

// The payload a frame carrying this event had: a close's code is its first two bytes.
std::string payload_of(const wire::frame_event& e) {
  if (e.type != kind::close || e.code == wire::close_code::no_status) return e.payload;
  std::string p;
  p.push_back(static_cast<char>(e.code >> 8));
  p.push_back(static_cast<char>(e.code & 0xFF));
  return p + e.payload;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  std::vector<wire::frame_event> whole;
  wire::frame_parser one_read(limits);
  one_read.feed(bytes, whole);
  for (const auto& e : whole) {
    FUZZ_CHECK(e.type != kind::text || e.payload.size() <= limits.max_message_size);
    // Text messages and close reasons reach the JSON layer and logs: always valid UTF-8.
    FUZZ_CHECK((e.type != kind::text && e.type != kind::close) || wire::is_valid_utf8(e.payload));
    FUZZ_CHECK(e.type != kind::close || e.code == wire::close_code::no_status || wire::is_valid_close_code(e.code));
    FUZZ_CHECK(e.type == kind::text || e.type == kind::protocol_error || e.payload.size() <= wire::max_control_payload);
  }
  // At most one terminal event, and it is the last.
  for (std::size_t i = 0; i + 1 < whole.size(); ++i) {
    FUZZ_CHECK(whole[i].type != kind::close && whole[i].type != kind::protocol_error);
  }

  // The same bytes in reads of 1 to 8 bytes (the sizes taken from the bytes themselves).
  std::vector<wire::frame_event> pieces;
  wire::frame_parser many_reads(limits);
  for (std::size_t at = 0; at < size;) {
    const std::size_t n = std::min<std::size_t>(size - at, 1 + (data[at] & 7));
    many_reads.feed(bytes.substr(at, n), pieces);
    at += n;
  }
  FUZZ_CHECK(same(whole, pieces));

  // Every message and control frame, re-encoded as one frame each, parses to the same events.
  std::string again;
  std::vector<wire::frame_event> expected;
  for (const auto& e : whole) {
    if (e.type == kind::protocol_error) break;
    again += globemeet::fuzz::masked_frame(opcode_of(e.type), payload_of(e), {0x12, 0x34, 0x56, 0x78});
    expected.push_back(e);
  }
  std::vector<wire::frame_event> reparsed;
  wire::frame_parser second(limits);
  second.feed(again, reparsed);
  FUZZ_CHECK(same(expected, reparsed));

  // A first frame that is final and not a continuation produced the first event by itself:
  // written again with its own mask it is exactly the input's first bytes.
  if (!whole.empty() && whole[0].type != kind::protocol_error && size >= 2 && (data[0] & 0x80) != 0 &&
      (data[0] & 0x0F) != 0) {
    const std::string payload = payload_of(whole[0]);
    const std::size_t mask_at = globemeet::fuzz::client_header_size(payload.size()) - 4;
    FUZZ_CHECK(size >= mask_at + 4);
    const std::string frame = globemeet::fuzz::masked_frame(
        opcode_of(whole[0].type), payload, {data[mask_at], data[mask_at + 1], data[mask_at + 2], data[mask_at + 3]});
    FUZZ_CHECK(bytes.substr(0, frame.size()) == frame);
  }
  return 0;
}
