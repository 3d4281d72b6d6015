// What differs between the servers under test: how a subscriber subscribes, how its acks and
// deliveries look, and how events are published. Everything else in the generator is shared.
//
//   globemeet  Authorization: Bearer + {"op":"subscribe"} -> "subscribed"; publish POST /v1/events
//   nats       NATS protocol over WebSocket: CONNECT, SUB, PING -> PONG; publish PUB
//   bun, ws    the peers in bench/peers: text "S t1,t2" -> "OK"; publish "P topic payload"
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

enum class Target { globemeet, nats, bun, ws };

std::optional<Target> parse_target(std::string_view name);
const char* target_name(Target target);

// Topic k of a run: "queue.q<k>.depth-changed" (a valid GlobeMeet topic and NATS subject).
std::string topic_name(int k);

// The event data object, exactly `payload_bytes` long, carrying the send time as "ts"
// (CLOCK_MONOTONIC ns). Every target delivers these same bytes (GlobeMeet inside its envelope).
std::string event_data(int topic, std::uint64_t send_ns, int payload_bytes);

// The send time in a delivered message, or 0 when it carries none.
std::uint64_t find_send_ns(std::string_view message);

// How subscribers spread over the topics. Connection i takes topic i % topics; with `wildcard`,
// every tenth connection also takes all topics through a wildcard, and GlobeMeet connections hold
// an overlapping pattern too (queue.qK.> next to queue.qK.depth-changed): each event still
// reaches each connection once.
struct SubscriptionLayout {
  int topics = 1;
  bool wildcard = false;
  bool receives(int connection, int topic) const;
  // What connection i subscribes to, in the target's own terms: patterns (GlobeMeet, NATS) or
  // concrete topics (bun, ws: no wildcards, so the wildcard holders list every topic).
  std::vector<std::string> subscriptions(Target target, int connection) const;
  // Every topic of the run (a wildcard where the target has them).
  std::vector<std::string> every_topic(Target target) const;
};

// Extra handshake header lines (each ending in "\r\n") and the path of the WebSocket endpoint.
std::string_view websocket_path(Target target);
std::string handshake_headers(Target target, std::string_view token);

// The text payload a subscriber sends right after the upgrade. `from` (GlobeMeet only) resumes.
std::string subscribe_payload(Target target, const std::vector<std::string>& subscriptions, std::string_view from = {});

// The payload a publisher connection sends once after the upgrade (NATS CONNECT), or empty.
std::string publisher_hello(Target target);

// Appends events to a publisher's outbound bytes. NATS: PUB lines (one frame may hold many);
// bun/ws: one message per event; GlobeMeet goes through `globemeet_publish_request`.
void append_nats_publish(std::string& stream, std::string_view topic, std::string_view data);
std::string peer_publish_message(std::string_view topic, std::string_view data);

// POST /v1/events with a batch body {"events":[...]} of (topic index, data) pairs.
std::string globemeet_publish_request(std::string_view host, std::string_view token, std::string_view body);
void append_globemeet_event(std::string& body, int topic, std::string_view data);

// What one message-based message (GlobeMeet, bun, ws) is.
enum class MessageKind { delivery, subscribed, replayed, overflow, error, other };
MessageKind classify_message(Target target, std::string_view message);

// The NATS protocol arrives as a byte stream spread over WebSocket frames.
class NatsStream {
 public:
  struct Handlers {
    std::function<void(std::string_view payload)> on_msg;
    std::function<void()> on_pong;
    std::function<void()> on_ping;
    std::function<void(std::string_view line)> on_error;
  };
  // Feeds bytes; calls the handlers for every complete protocol message.
  void feed(std::string_view bytes, const Handlers& handlers);

 private:
  std::string buffer_;
};

}  // namespace bench
