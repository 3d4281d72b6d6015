// The client session (core client_session) under a hostile server. After a normal start
// (subscriptions, a token, the connection opened, `ready`) every input line is one input:
//   "E<id> <topic>"  event_received        "T<d>"  timer_fired (kind d % 6)
//   "e<id> <topic>"  a snapshot event      "s<pattern>"  subscribe asking for the snapshot
//   "C<code>"        closed                "O"     opened (the newest connection)
//   "K"              token_obtained        "S<pattern>" / "U<d>"  the user (un)subscribes
//   any other line   a frame from the server, as text
// time advancing 250 ms per line. Checks, on every action: the session sends only frames the
// server's decoder accepts, on the connection it opened; it delivers only event ids, each
// later than the one before in the same epoch (never twice, never out of order) and another
// epoch only after a `reset`, except snapshot events, which leave the order alone and go only
// to handles that asked for the snapshot; each delivery names distinct live handles whose
// pattern matches the topic.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>

#include "check.hpp"
#include "globemeet/core/client_session.hpp"
#include "globemeet/core/codec.hpp"
#include "globemeet/core/event_id.hpp"
#include "globemeet/core/topic.hpp"

namespace core = globemeet::core;

namespace {

// A JWT whose `exp` is 2033 (the session reads `exp` only; the server verifies).
constexpr std::string_view token = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjIwMDAwMDAwMDB9.c2ln";

struct harness {
  core::client_session session{core::session_config{"wss://events.test/v1/events", true, true}};
  core::tick now{1'800'000'000'000, 0.5};
  std::uint64_t connection = 0;
  std::map<std::uint64_t, std::string> handles;  // live handle -> pattern
  std::set<std::uint64_t> snapshot_handles;      // those subscribed with the snapshot option
  std::optional<core::event_id> last;            // last delivered, cleared by a reset

  void check_actions() {
    for (auto& a : session.take_actions()) {
      if (const auto* open = std::get_if<core::open_action>(&a)) {
        FUZZ_CHECK(open->connection > connection);
        connection = open->connection;
      } else if (const auto* send = std::get_if<core::send_action>(&a)) {
        FUZZ_CHECK(send->connection == connection);
        FUZZ_CHECK(core::codec::decode_client(send->text).ok());
      } else if (const auto* deliver = std::get_if<core::deliver_action>(&a)) {
        check_delivery(*deliver);
      } else if (const auto* notice = std::get_if<core::notice_action>(&a)) {
        if (notice->kind == core::notice_kind::reset) last.reset();
        if (notice->kind == core::notice_kind::subscription_failed || notice->kind == core::notice_kind::revoked)
          handles.erase(notice->handle);
      }
    }
  }

  void check_delivery(const core::deliver_action& d) {
    const auto id = core::event_id::parse_event(d.ev.id);
    FUZZ_CHECK(id.has_value());
    FUZZ_CHECK(d.snapshot == d.ev.snapshot);
    for (const auto h : d.handles) FUZZ_CHECK(!d.snapshot || snapshot_handles.count(h) == 1);
    if (d.snapshot) {
      check_handles(d);
      return;  // older than the position: no order to keep, and the position does not move
    }
    if (last) {
      FUZZ_CHECK(id->epoch == last->epoch);  // another epoch comes only after a reset
      FUZZ_CHECK(id->seq > last->seq);
    }
    last = id;
    check_handles(d);
  }

  void check_handles(const core::deliver_action& d) {
    FUZZ_CHECK(!core::topic::validate_name(d.ev.topic));
    FUZZ_CHECK(!d.handles.empty());
    FUZZ_CHECK(std::set<std::uint64_t>(d.handles.begin(), d.handles.end()).size() == d.handles.size());
    for (const auto h : d.handles) {
      const auto it = handles.find(h);
      FUZZ_CHECK(it != handles.end());
      FUZZ_CHECK(core::topic::matches(it->second, d.ev.topic));
    }
  }

  void subscribe(std::string_view pattern, bool snapshot = false) {
    auto handle = session.subscribe(now, pattern, core::subscribe_options{snapshot});
    if (handle && snapshot) snapshot_handles.insert(handle.value());
    if (handle) handles.emplace(handle.value(), pattern);
  }

  void step(std::string_view line) {
    now.now_ms += 250;
    now.random = static_cast<double>(line.size() % 10) / 10.0;
    const char command = line.empty() ? '\0' : line[0];
    const auto rest = line.empty() ? line : line.substr(1);
    if (command == 'E' || command == 'e') {
      const auto space = rest.find(' ');
      session.event_received(now, connection, rest.substr(0, space),
                             space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1),
                             "2026-11-27T18:02:11.204Z", command == 'e');
    } else if (command == 'T' && !rest.empty()) {
      session.timer_fired(now, static_cast<core::timer_kind>(static_cast<std::uint8_t>(rest[0]) % 6));
    } else if (command == 'C') {
      std::uint16_t code = 0;
      for (const char c : rest.substr(0, 5)) code = static_cast<std::uint16_t>(code * 10 + (c & 0x0F) % 10);
      session.closed(now, connection, code, "fuzz");
    } else if (command == 'O') {
      session.opened(now, connection);
    } else if (command == 'K') {
      session.token_obtained(now, std::string(token));
    } else if (command == 'S' || command == 's') {
      subscribe(rest, command == 's');
    } else if (command == 'U' && !rest.empty() && !handles.empty()) {
      auto it = handles.begin();
      std::advance(it, static_cast<std::uint8_t>(rest[0]) % handles.size());
      const auto handle = it->first;
      handles.erase(it);
      session.unsubscribe(now, handle);
    } else {
      session.frame(now, connection, line);
    }
    check_actions();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  harness h;
  h.subscribe("queue.support.depth-changed");
  h.subscribe("session.*.connected");
  h.subscribe("agent.>");
  h.session.start(h.now);
  h.check_actions();
  h.session.token_obtained(h.now, std::string(token));
  h.check_actions();
  FUZZ_CHECK(h.connection != 0);
  h.session.opened(h.now, h.connection);
  h.session.frame(h.now, h.connection,
                  R"({"op":"ready","sub":"svc","tenant":"acme","exp":2000000000,"heartbeat_ms":20000,"head":"6f1c-0"})");
  h.check_actions();
  FUZZ_CHECK(h.session.state() == core::session_state::live);

  std::string_view rest(reinterpret_cast<const char*>(data), size);
  for (int lines = 0; lines < 256; ++lines) {
    const auto newline = rest.find('\n');
    h.step(rest.substr(0, newline));
    if (newline == std::string_view::npos) break;
    rest.remove_prefix(newline + 1);
  }
  return 0;
}
