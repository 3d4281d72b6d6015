// The event log of a cluster: one NATS JetStream stream that every GlobeMeet node publishes to
// and consumes (docs/scaling.md). JetStream orders, replicates and retains the events; this
// class maps them onto event_log:
//
// * One stream (default GLOBEMEET) holds every tenant's events on subjects
//   `globemeet.{tenant}.{stream}.{key}.{event}`; a message's payload is the event's data JSON as
//   published, so the envelope is rebuilt from subject and data (events::pending_event_from_topic).
// * seq is the stream sequence. The epoch is a random id written into the stream's description
//   by the node that creates the stream: stored with the stream, the same for every node, and
//   new when the stream is deleted and created again. (Not the stream's creation time: a
//   description survives every restart and upgrade as it was written, and is visible in
//   `nats stream info`.)
// * The event's time is the stream's own timestamp of the message, so every node sends the
//   same envelope.
// * append() publishes each event with a Nats-Msg-Id and completes once JetStream acknowledged
//   it (after replication to a quorum); the ids are the sequences in the acks. Publishes that
//   time out are retried with the same message ids for a bounded time, so JetStream stores them
//   at most once.
// * A consumer thread reads the stream in order with an ordered consumer from where this node
//   stands, keeps the newest events in memory, and calls the listener (fan-out). Older events
//   are read from JetStream in bounded chunks.
//
// JetStream may be unreachable at any time: at start the log retries until it can reach the
// stream (started() is false until it has caught up); while running, appends fail with
// log_unavailable and the consumer resumes in order once it is back.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "globemeet/server/log/event_log.hpp"
#include "globemeet/server/log/memory_log.hpp"

namespace globemeet::server::log {

struct jetstream_log_options {
  std::vector<std::string> urls;       // nats://host:port of one or more cluster nodes
  std::string stream = "GLOBEMEET";
  std::string subject_prefix = "globemeet";
  std::int64_t replicas = 1;           // 1 to 5
  retention_policy retention;          // the stream's max messages and max age
  std::size_t memory_events = 100'000; // newest events kept in memory (capped by retention)
  std::int64_t publish_timeout_ms = 5000;  // a publish retries this long before log_unavailable
  std::int64_t open_wait_ms = 3000;    // open() waits this long for JetStream before going on without it
  // How to authenticate to NATS (at most one of: credentials file, user and password, token).
  std::string creds_file;
  std::string user;
  std::string password;
  std::string token;
  std::string ca_file;                 // PEM CA certificates: the connection uses TLS, verified with them
};

// What the log tells the operator: level ("info", "warn", "error"), message name, detail.
using log_notice = std::function<void(std::string_view level, std::string_view msg, std::string_view detail)>;

class jetstream_log final : public event_log {
 public:
  // Connects and checks or creates the stream, waiting at most options.open_wait_ms. An error
  // is a stream it cannot use (a mismatch it cannot fix); JetStream not reachable yet is no
  // error: the log keeps trying after start(). `notice` must be thread-safe.
  static core::result<std::unique_ptr<jetstream_log>> open(jetstream_log_options options, log_notice notice);
  ~jetstream_log() override;  // close()
  jetstream_log(const jetstream_log&) = delete;
  jetstream_log& operator=(const jetstream_log&) = delete;

  const std::string& epoch() const noexcept override { return epoch_; }
  void start() override;
  bool started() const override { return started_.load(std::memory_order_acquire); }
  void append(std::vector<events::pending_event> batch, std::int64_t now_ms, append_completion done) override;
  std::optional<std::string> unavailable_reason() const override;
  // JetStream applies retention itself; the consumer follows the stream's first sequence.
  std::size_t trim(std::int64_t) override { return 0; }
  read_status read(std::uint64_t after_seq, std::uint64_t up_to_seq, std::size_t max_count,
                   std::vector<stored_event_ptr>& out) const override;
  log_bounds bounds() const override;
  std::uint64_t newest_known_seq() const override;
  void set_listener(append_listener listener) override;
  counters stats() const override;
  // Completes what is queued, then stops publishing and consuming and closes the connection.
  void close() override;

  struct nats;  // the NATS handles, and the publisher's bookkeeping its callbacks reach

 private:
  struct append_request {
    std::vector<events::pending_event> batch;
    std::int64_t now_ms = 0;
    append_completion done;
  };

  jetstream_log(jetstream_log_options options, log_notice notice);
  // Reaches the stream: checks (or creates) it and learns the epoch. nullopt on success or on a
  // passing failure (kept in `transient`); an error for a stream this log cannot use.
  std::optional<core::error> set_up_stream(std::string& transient);
  void run_consumer();
  void run_publisher();
  void publish_group(std::vector<append_request>& group);
  // Reads the stream's state (first and last sequence), timing the round trip.
  bool refresh_stream_info();
  // Messages with stream seq in [first, last], at most max_count, from a short-lived ordered
  // consumer; false when JetStream could not be read.
  bool fetch_range(std::uint64_t first, std::uint64_t last, std::size_t max_count,
                   std::vector<stored_event_ptr>& out) const;
  void set_unavailable(std::optional<std::string> reason);

  const jetstream_log_options options_;
  const log_notice notice_;
  std::unique_ptr<nats> nats_;
  std::string epoch_;  // written once, before started_ turns true
  std::atomic<bool> started_{false};
  std::atomic<bool> stream_ready_{false};  // set_up_stream succeeded
  std::atomic<bool> stopping_{false};

  // The extent and the in-memory window, under mutex_.
  mutable std::mutex mutex_;
  std::deque<stored_event_ptr> window_;  // the newest events, ascending (gaps where the stream has them)
  std::uint64_t head_seq_ = 0;           // newest event fanned out
  std::uint64_t oldest_seq_ = 1;         // the stream's first sequence, as last seen
  std::uint64_t stream_last_seq_ = 0;    // the stream's last sequence, as last seen
  std::optional<std::string> unavailable_;
  std::optional<std::string> fatal_;     // the stream became unusable while running
  std::shared_ptr<const append_listener> listener_;

  // The publisher's queue, under queue_mutex_.
  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::vector<append_request> queue_;
  bool closing_ = false;

  std::thread consumer_;
  std::thread publisher_;
  std::atomic<std::uint64_t> round_trip_ns_{0}, publishes_{0}, publish_ns_{0};
  mutable std::atomic<std::uint64_t> damaged_events_{0};
};

}  // namespace globemeet::server::log
