// Process-wide counters for GET /metrics (Prometheus text format 0.0.4). Relaxed atomics: the
// hot path pays one uncontended add. No per-topic or per-user labels, by design (cardinality).
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace globemeet::server::net {

class metrics {
 public:
  std::atomic<std::int64_t> connections{0};    // open WebSocket connections (gauge)
  std::atomic<std::int64_t> subscriptions{0};  // patterns held over all connections (gauge)
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> events_in{0};      // events accepted by POST /v1/events
  std::atomic<std::uint64_t> events_out{0};     // event frames written to sockets
  std::atomic<std::uint64_t> replayed{0};       // event frames sent as resume replay
  std::atomic<std::uint64_t> snapshot_events{0};  // event frames sent as snapshots (section 5.3)
  std::atomic<std::uint64_t> conflated{0};      // queued gauge events replaced by a newer one (7.1)
  std::atomic<std::uint64_t> dropped{0};        // frames discarded with a closing connection
  std::atomic<std::uint64_t> overflow_closes{0};
  std::atomic<std::uint64_t> http_requests{0};
  std::atomic<std::uint64_t> handshake_refusals{0};
  std::atomic<std::uint64_t> error_frames{0};

  static constexpr std::array<double, 12> latency_bounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                         0.01,   0.025,   0.05,   0.1,   0.5,    1.0};

  // The delivery latencies of one written batch, counted locally and then added to the
  // histogram with one update per bucket used: a few atomics per write, not per event.
  class latency_tally {
   public:
    void add(double seconds) noexcept;
    bool empty() const noexcept { return count_ == 0; }

   private:
    friend class metrics;
    std::array<std::uint32_t, latency_bounds.size() + 1> buckets_{};
    std::uint64_t count_ = 0;
    std::uint64_t sum_ns_ = 0;
  };

  // Time from the log accepting an event to its frame being written to one socket.
  void observe_delivery_latencies(const latency_tally& tally) noexcept;

  std::string render() const;
  // The event log's own counters (event_log::stats()), appended after render()'s.
  static void render_log(std::string& out, std::uint64_t commits, std::uint64_t appends, std::uint64_t commit_ns,
                         std::uint64_t damaged_events);
  // The jetstream log's: consumer lag, the last API round trip, publish rounds and their time.
  static void render_stream(std::string& out, std::uint64_t lag, std::uint64_t round_trip_ns, std::uint64_t publishes,
                            std::uint64_t publish_ns);

 private:
  std::array<std::atomic<std::uint64_t>, latency_bounds.size() + 1> latency_buckets_{};  // last: +Inf
  std::atomic<std::uint64_t> latency_count_{0};
  std::atomic<std::uint64_t> latency_sum_ns_{0};
};

}  // namespace globemeet::server::net
