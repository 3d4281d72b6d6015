// The frames of docs/protocol.md section 2 as plain values. An empty `req` means "absent".
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace globemeet::core {

// ---- client to server ------------------------------------------------------------------------
struct auth_frame { std::string token; friend bool operator==(const auth_frame&, const auth_frame&) = default; };
struct subscribe_frame {
  std::string req;
  std::vector<std::string> topics;
  std::optional<std::string> from;  // resume position, as sent (validated by the server)
  bool snapshot = false;            // the current state first (section 5.3); written only when true
  bool conflate = false;            // gauges may be conflated when the connection lags (section 7.1)
  friend bool operator==(const subscribe_frame&, const subscribe_frame&) = default;
};
struct unsubscribe_frame {
  std::string req;
  std::vector<std::string> topics;
  friend bool operator==(const unsubscribe_frame&, const unsubscribe_frame&) = default;
};
struct refresh_frame {
  std::string req;
  std::string token;
  friend bool operator==(const refresh_frame&, const refresh_frame&) = default;
};
struct ping_frame { std::string req; friend bool operator==(const ping_frame&, const ping_frame&) = default; };

using client_frame = std::variant<auth_frame, subscribe_frame, unsubscribe_frame, refresh_frame, ping_frame>;

// ---- the event envelope (section 3) ----------------------------------------------------------
struct event {
  std::string id;         // "{epoch}-{seq}"
  std::string source;     // "/tenants/{tenant}/{stream}s/{key}"
  std::string type;       // "{stream}.{event}"
  std::string subject;    // the key segment
  std::string time;       // RFC 3339 UTC with milliseconds
  std::string topic;      // "{stream}.{key}.{event}"
  std::string tenant;
  std::string data_json;  // the `data` object as compact JSON text
  bool snapshot = false;  // a snapshot event (section 5.3): the frame carries "snapshot":true
  friend bool operator==(const event&, const event&) = default;
};

// ---- server to client ------------------------------------------------------------------------
// `head` and `reset.position` are positions (`{epoch}-0` before the first event) and the server
// always names one. They stay optional because a null from an older server is still decoded:
// the client then merely lacks a position, which is no reason to refuse the frame.
struct ready_frame {
  std::string sub, tenant;
  std::int64_t exp = 0;  // Unix seconds
  std::int64_t heartbeat_ms = 0;
  std::optional<std::string> head;
  // The server's clock when it sent the frame, Unix ms (section 7.2); absent from older servers.
  std::optional<std::int64_t> time_ms{};
  friend bool operator==(const ready_frame&, const ready_frame&) = default;
};
struct subscribed_frame {
  std::string req;
  std::vector<std::string> topics;
  std::optional<std::string> head;
  friend bool operator==(const subscribed_frame&, const subscribed_frame&) = default;
};
struct replayed_frame {
  std::string req;
  std::uint64_t count = 0;
  friend bool operator==(const replayed_frame&, const replayed_frame&) = default;
};
struct unsubscribed_frame {
  std::string req;
  std::vector<std::string> topics;
  std::string reason;  // "requested" | "permission_revoked"
  friend bool operator==(const unsubscribed_frame&, const unsubscribed_frame&) = default;
};
struct refreshed_frame {
  std::string req;
  std::int64_t exp = 0;
  friend bool operator==(const refreshed_frame&, const refreshed_frame&) = default;
};
struct snapshotted_frame {
  std::string req;
  std::uint64_t count = 0;
  friend bool operator==(const snapshotted_frame&, const snapshotted_frame&) = default;
};
struct pong_frame {
  std::string req;
  std::optional<std::int64_t> time_ms{};  // the server's clock, Unix ms (section 7.2); absent from older servers
  friend bool operator==(const pong_frame&, const pong_frame&) = default;
};
struct event_frame { event ev; friend bool operator==(const event_frame&, const event_frame&) = default; };
struct reset_frame {
  std::string reason;  // "retention_exceeded" | "epoch_changed" | "future_id"
  std::optional<std::string> from;
  std::optional<std::string> position;
  friend bool operator==(const reset_frame&, const reset_frame&) = default;
};
struct overflow_frame {
  std::int64_t lag_ms = 0;
  std::optional<std::string> last_id;
  friend bool operator==(const overflow_frame&, const overflow_frame&) = default;
};
struct expiring_frame {
  std::int64_t exp = 0;
  std::int64_t grace_ms = 0;
  friend bool operator==(const expiring_frame&, const expiring_frame&) = default;
};
struct closing_frame {
  std::string reason;
  std::int64_t reconnect_after_ms = 0;
  friend bool operator==(const closing_frame&, const closing_frame&) = default;
};
struct error_frame {
  std::string req;
  std::string code;
  std::string message;
  std::string topic;  // empty when the error is not about one topic
  friend bool operator==(const error_frame&, const error_frame&) = default;
};

using server_frame = std::variant<ready_frame, subscribed_frame, replayed_frame, snapshotted_frame,
                                  unsubscribed_frame, refreshed_frame, pong_frame, event_frame, reset_frame,
                                  overflow_frame, expiring_frame, closing_frame, error_frame>;

}  // namespace globemeet::core
