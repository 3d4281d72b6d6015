// The WebSocket request dispatch (server/net websocket_requests.cpp) of a real session: a
// websocket_session on one end of a socket pair, driven the way the server's readiness poller
// drives it, on a real server state (memory log holding events of two tenants). The target
// authenticates first (a valid token of tenant acme, `ready` expected), then every input line
// is one input:
//   "\x01"          the session's periodic tick       "\x02<payload>"  a WebSocket ping
//   "\x03<n>"       an event is published (tenant acme or other, one of four topics)
//   any other line  a text frame, after replacing "@a" (the token authenticated with), "@n" (its
//                   sub and tenant with narrower perms), "@o" (another tenant), "@x" (expired)
//                   and "@e" (the log's epoch, for `from`)
// Checks: the server sends only frames of protocol.md (decode_server accepts every text frame;
// control frames are ping, pong and one final close); each text frame it reads is answered
// with at least one frame, unless the connection is closing; events are only tenant acme's,
// of topics a `subscribed` named, ids increasing; once the client goes, the session is gone
// and no subscription is left counted.
#include <sys/epoll.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "client_frames.hpp"
#include "readiness_poller.hpp"
#include "server_state.hpp"
#include "session_registry.hpp"
#include "websocket_session.hpp"
#include "globemeet/core/codec.hpp"
#include "globemeet/core/event_id.hpp"
#include "globemeet/core/topic.hpp"
#include "globemeet/server/events/publish.hpp"

namespace net = globemeet::server::net;
namespace auth = globemeet::server::auth;
namespace core = globemeet::core;
namespace events = globemeet::server::events;
namespace asio = boost::asio;

namespace {

constexpr std::string_view topics[] = {"queue.support.depth-changed", "queue.sales.depth-changed",
                                       "agent.a7.status-changed", "session.s1.connected"};

struct fixture {
  asio::io_context io{1};
  std::unique_ptr<net::server_state> state;
  net::session_registry registry;
  std::unique_ptr<net::readiness_poller> poller;
  std::string acme, narrower, other, expired, epoch;

  fixture() {
    // The sessions log each connection on stdout; libFuzzer reports on stderr.
    std::freopen("/dev/null", "w", stdout);
    net::server_config config;
    config.issuer = "fuzz";
    config.log_backend = "memory";
    config.retention_events = 500;
    std::string error;
    state = net::make_server_state(config, error);
    FUZZ_CHECK(state != nullptr);
    poller = std::make_unique<net::readiness_poller>(io, [](std::uint64_t, std::uint32_t) {});
    state->poller = poller.get();
    const std::int64_t now = net::unix_now_s();
    auth::claims c{"svc", "acme", {"queue.>", "agent.*.status-changed", "session.>"}, false,
                   now + 3600, now, std::nullopt, "fuzz", {"globemeet-events"}};
    acme = state->token_signer->sign(c).value();
    c.perms = {"queue.support.>"};
    narrower = state->token_signer->sign(c).value();
    c.tenant = "other", c.perms = {">"};
    other = state->token_signer->sign(c).value();
    c.tenant = "acme", c.iat = now - 7200, c.exp = now - 3600;
    expired = state->token_signer->sign(c).value();
    for (int i = 0; i < 24; ++i) publish(static_cast<std::uint8_t>(i));
    epoch = state->fan_out->head().epoch;
  }

  void publish(std::uint8_t n) {
    const std::string_view topic = topics[n % 4];
    const std::string tenant = n & 4 ? "other" : "acme";
    const std::string data = topic.starts_with("queue.")
        ? R"({"queue_id":"x","depth":1,"longest_wait_seconds":2})"
        : topic.starts_with("agent.") ? R"({"agent_id":"a7","status":"available"})"
                                      : R"({"session_id":"s1","agent_id":"a7","queue_id":"x","channel":"voice"})";
    auto event = events::pending_event_from_topic(tenant, topic, data);
    if (!event) return;  // a data shape the catalogue refuses: nothing to publish
    std::vector<events::pending_event> batch{std::move(event.value())};
    state->log->append(std::move(batch), net::unix_now_ms(), [](auto) {});
  }

  std::string substituted(std::string_view line) const {
    std::string out;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const char next = i + 1 < line.size() ? line[i + 1] : '\0';
      const std::string* with = line[i] != '@' ? nullptr
                                : next == 'a'  ? &acme
                                : next == 'n'  ? &narrower
                                : next == 'o'  ? &other
                                : next == 'x'  ? &expired
                                : next == 'e'  ? &epoch
                                               : nullptr;
      if (with) {
        out += *with;
        ++i;
      } else {
        out += line[i];
      }
    }
    return out;
  }
};

fixture& shared() {
  static fixture f;
  return f;
}

// The client's end: what the server wrote, as frames, and what they mean.
struct client {
  fixture& f;
  int fd;
  std::shared_ptr<net::websocket_session> session = {};
  std::string received = {};  // bytes not yet a whole frame
  bool closed = false;   // the server's close frame arrived
  std::set<std::string> subscribed = {};
  std::optional<core::event_id> last_event = {};
  std::size_t text_frames = 0;

  // Runs the session's work, reading what it writes, until neither has anything left.
  void settle() {
    for (int rounds = 0; rounds < 64; ++rounds) {
      f.io.restart();
      f.io.poll();
      char buffer[65536];
      bool read_any = false;
      for (;;) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n <= 0) break;
        received.append(buffer, static_cast<std::size_t>(n));
        read_any = true;
      }
      parse_frames();
      if (!read_any) return;
      session->socket_ready(EPOLLOUT);  // room again for what the socket did not take
    }
  }

  void parse_frames() {
    for (;;) {
      if (received.size() < 2) return;
      const auto b0 = static_cast<std::uint8_t>(received[0]), b1 = static_cast<std::uint8_t>(received[1]);
      FUZZ_CHECK((b0 & 0x80) != 0 && (b0 & 0x70) == 0);  // final, no extensions
      FUZZ_CHECK((b1 & 0x80) == 0);                        // a server never masks
      std::size_t length = b1 & 0x7F, header = 2;
      if (length == 126) {
        if (received.size() < 4) return;
        length = static_cast<std::size_t>(static_cast<std::uint8_t>(received[2])) << 8 | static_cast<std::uint8_t>(received[3]);
        header = 4;
      } else if (length == 127) {
        if (received.size() < 10) return;
        length = 0;
        for (int i = 2; i < 10; ++i) length = length << 8 | static_cast<std::uint8_t>(received[static_cast<std::size_t>(i)]);
        header = 10;
      }
      if (received.size() < header + length) return;
      const std::string payload = received.substr(header, length);
      received.erase(0, header + length);
      FUZZ_CHECK(!closed);  // nothing after the close frame
      switch (b0 & 0x0F) {
        case 0x1: text(payload); break;
        case 0x8: closed = true; break;
        case 0x9: case 0xA: break;  // heartbeat ping; pong of our ping
        default: FUZZ_CHECK((b0 & 0x0F) == 0x1);  // another opcode: fails
      }
    }
  }

  void text(std::string_view payload) {
    ++text_frames;
    auto decoded = core::codec::decode_server(payload);
    FUZZ_CHECK(decoded.ok());
    if (const auto* s = std::get_if<core::subscribed_frame>(&decoded.value())) {
      subscribed.insert(s->topics.begin(), s->topics.end());
    } else if (const auto* e = std::get_if<core::event_frame>(&decoded.value())) {
      FUZZ_CHECK(e->ev.tenant == "acme");
      bool matched = false;
      for (const auto& p : subscribed) matched = matched || core::topic::matches(p, e->ev.topic);
      FUZZ_CHECK(matched);
      const auto id = core::event_id::parse_event(e->ev.id);
      FUZZ_CHECK(id.has_value());
      if (last_event && !e->ev.snapshot) FUZZ_CHECK(id->epoch == last_event->epoch && id->seq > last_event->seq);
      if (!e->ev.snapshot) last_event = id;
    } else if (std::holds_alternative<core::reset_frame>(decoded.value())) {
      last_event.reset();  // the client resumes from another position
    }
  }

  void send_frame(std::uint8_t opcode, std::string_view payload) {
    const std::string bytes = globemeet::fuzz::masked_frame(opcode, payload, {0x12, 0x34, 0x56, 0x78});
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n <= 0) {
        session->socket_ready(EPOLLIN);  // let the session read before writing the rest
        settle();
        if (closed) return;
        continue;
      }
      sent += static_cast<std::size_t>(n);
    }
    session->socket_ready(EPOLLIN);
    settle();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fixture& f = shared();
  int fds[2];
  FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  asio::ip::tcp::socket socket(f.io);
  socket.assign(asio::ip::tcp::v4(), fds[0]);
  FUZZ_CHECK(f.state->limits.acquire_address("fuzz"));  // what the handshake takes
  client c{f, fds[1]};
  c.session = std::make_shared<net::websocket_session>(*f.state, f.registry, net::byte_stream(std::move(socket), nullptr),
                                                       net::websocket_start{"fuzz", "", std::nullopt});
  c.session->start({});
  c.send_frame(0x1, R"({"op":"auth","token":")" + f.acme + "\"}");
  FUZZ_CHECK(c.text_frames == 1 && !c.closed);  // ready

  std::string_view rest(reinterpret_cast<const char*>(data), size);
  for (int lines = 0; lines < 128 && !c.closed; ++lines) {
    const auto newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    if (line.starts_with('\x01')) {
      c.session->tick();
      c.settle();
    } else if (line.starts_with('\x02')) {
      c.send_frame(0x9, line.substr(1, 125));
    } else if (line.starts_with('\x03')) {
      f.publish(line.size() > 1 ? static_cast<std::uint8_t>(line[1]) : 0);
      c.settle();
    } else {
      const std::size_t before = c.text_frames;
      c.send_frame(0x1, f.substituted(line));
      FUZZ_CHECK(c.text_frames > before || c.closed);  // every request is answered
    }
    if (newline == std::string_view::npos) break;
    rest.remove_prefix(newline + 1);
  }

  // The client goes: the session ends, and with it its registry entry and connection slots.
  ::close(fds[1]);
  c.session->socket_ready(EPOLLIN | EPOLLRDHUP | EPOLLHUP);
  f.io.restart();
  f.io.poll();
  FUZZ_CHECK(f.registry.size() == 0);
  FUZZ_CHECK(f.state->stats.connections.load() == 0 && f.state->stats.subscriptions.load() == 0);
  return 0;
}
