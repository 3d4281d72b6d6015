// The ordered event log of one deployment: every published event gets the next id
// `{epoch}-{seq}` and a server time, is serialized once into its `event` frame, and is kept
// until retention drops it, so reconnecting clients can be replayed what they missed.
// Abstract, so that a durable or multi-node store can stand in for memory_log.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "globemeet/core/event_id.hpp"
#include "globemeet/core/result.hpp"
#include "globemeet/server/events/publish.hpp"
#include "globemeet/server/log/resume_plan.hpp"

namespace globemeet::server::log {

// One stored event. Immutable once stored and shared by the log, fan-out and replay.
struct stored_event {
  std::uint64_t seq = 0;
  std::string id;           // "{epoch}-{seq}"
  std::int64_t time_ms = 0; // Unix milliseconds the server stamped (the envelope's `time`)
  // Unix microseconds when this process framed it, for the sub-millisecond delivery latency
  // histogram; 0 for an event read back from a store (then time_ms serves).
  std::int64_t framed_us = 0;
  std::string tenant;
  std::string topic;        // "{stream}.{key}.{event}"
  // The `event` frame serialized once, in the exact bytes a WebSocket carries it: the RFC 6455
  // text-frame header, then the JSON text. Every receiver's write copies from here.
  std::string websocket_frame;
  std::uint8_t header_size = 0;

  // The JSON text of the `event` frame.
  std::string_view frame() const noexcept { return std::string_view(websocket_frame).substr(header_size); }
};

// Builds an event's websocket_frame and header_size from its JSON text.
void set_frame(stored_event& event, std::string_view json);
using stored_event_ptr = std::shared_ptr<const stored_event>;

// Stamps `batch` with ids `{epoch}-{first_seq}`... and `time_ms`, and serializes each event's
// frame once. Moves the strings out of `batch`. What every log implementation stores.
std::vector<stored_event_ptr> build_stored_events(std::vector<events::pending_event>& batch, const std::string& epoch,
                                                  std::uint64_t first_seq, std::int64_t time_ms);

// The result of one bounded read.
struct read_status {
  std::size_t copied = 0;        // events appended to `out`
  std::uint64_t oldest_seq = 1;  // the log's oldest retained seq at the time of the read
};

// How long a log remembers idempotency ids (pending_event::idempotency_id): the default
// duplicate window of JetStream, so that every log gives publishers the same retry window.
inline constexpr std::int64_t idempotency_window_ms = 120'000;

// Error code of an append the log could not take (memory_log: the seq space is exhausted).
inline constexpr std::string_view log_unavailable_code = "log_unavailable";

class event_log {
 public:
  // Called with every appended batch, in seq order, never twice at the same time and never
  // under the log's lock. The server's fan-out: it must not call append() and should be quick.
  // The head (bounds().head_seq) passes a batch only once its listener call has returned, so a
  // subscriber that reads bounds() under the same lock its listener takes gets every event up
  // to that head from the log (replay) and every later one from the listener, none twice.
  using append_listener = std::function<void(std::span<const stored_event_ptr>)>;

  virtual ~event_log() = default;

  // The epoch naming this log's life; fixed at construction (jetstream_log: once started()).
  virtual const std::string& epoch() const noexcept = 0;

  // Starts what the log runs on its own (jetstream_log: connecting and consuming the stream,
  // which calls the listener). The server calls it once, after wiring fan-out.
  virtual void start() {}
  // False while the log cannot serve clients yet: jetstream_log before it first reached its
  // stream and caught up with it, when neither its epoch nor its head is known. The server
  // refuses WebSocket handshakes (503 log_unavailable) until then. Thread-safe.
  virtual bool started() const { return true; }

  using append_result = core::result<std::vector<stored_event_ptr>>;
  // Called exactly once per append, with the stored events or the error, once the batch is
  // stored as durably as the log promises (memory_log: at once, on the appending thread; a
  // durable log: after its commit, on its own thread). Must be quick and must not wait for
  // another append.
  using append_completion = std::function<void(append_result)>;

  // Stores `batch` in order with consecutive ids and the time `now_ms` (Unix milliseconds; a
  // time before the previous append's is raised to it so the log's times never go back),
  // applies retention, tells the listener, then completes `done` with the stored events. Ids
  // are handed out only once stored and given to the listener. All or nothing: on error
  // nothing of the batch is stored. Never waits for a disk on the calling thread. Thread-safe.
  // Exception: a log without atomic batches (jetstream_log) can store part of one; it then
  // completes with a vector in batch order holding nullptr for each event it did not store.
  // Events whose idempotency_id the log already holds (within idempotency_window_ms) are not
  // stored again: their place in the result names the event stored first.
  virtual void append(std::vector<events::pending_event> batch, std::int64_t now_ms, append_completion done) = 0;
  // append(), waiting for its completion: for tests and tools, never for an I/O thread.
  append_result append_sync(std::vector<events::pending_event> batch, std::int64_t now_ms);

  // Stores what is queued, completing it, then refuses further appends: the server calls it
  // once its connections are gone, before the listener's hub goes away.
  virtual void close() {}

  // What /metrics reports of the log (all zero for memory_log). Thread-safe.
  struct counters {
    std::uint64_t commits = 0;           // durable commits, each holding every append that queued meanwhile
    std::uint64_t appends = 0;           // append() calls stored by them (appends / commits: the group-commit factor)
    std::uint64_t commit_ns = 0;         // time spent in those commits, fsync included
    std::uint64_t damaged_events = 0;    // stored events that could not be read back intact (a damaged
                                         // disk) and so were never served: gaps in a replay
    // jetstream_log only (has_stream):
    bool has_stream = false;
    std::uint64_t stream_lag = 0;        // events in the stream this node has not fanned out yet
    std::uint64_t round_trip_ns = 0;     // the last JetStream API request's round trip
    std::uint64_t publishes = 0;         // publish rounds (all acks of a group of requests)
    std::uint64_t publish_ns = 0;        // time in them, from sending to the last ack
  };
  virtual counters stats() const { return {}; }

  // Why the log takes no appends at the moment (a full or read-only disk), or nullopt when it
  // does. What /readyz reports. Thread-safe.
  virtual std::optional<std::string> unavailable_reason() const { return std::nullopt; }

  // Drops what retention no longer keeps at `now_ms` (call it periodically: a quiet log is
  // trimmed by age only here). Returns how many events were dropped. Thread-safe.
  virtual std::size_t trim(std::int64_t now_ms) = 0;

  // Appends to `out`, in seq order, at most `max_count` retained events with seq in
  // (after_seq, up_to_seq]. Copies pointers only, so the lock is held briefly. Thread-safe.
  virtual read_status read(std::uint64_t after_seq, std::uint64_t up_to_seq, std::size_t max_count,
                           std::vector<stored_event_ptr>& out) const = 0;

  // The log's extent, taken at one instant. Thread-safe.
  virtual log_bounds bounds() const = 0;
  // The newest seq known to be stored, fanned out here or not yet (jetstream_log: the stream's
  // last sequence as last seen; a node may lag behind it). A resume from an id up to it waits a
  // little for fan-out rather than being told future_id. Thread-safe.
  virtual std::uint64_t newest_known_seq() const { return bounds().head_seq; }

  // Replaces the listener (empty: none). Set it before the first append.
  virtual void set_listener(append_listener listener) = 0;

  // The newest stored id given to the listener (still the newest after retention dropped it),
  // or `{epoch}-0` when nothing was stored in this epoch: `ready.head` and `subscribed.head`.
  // Never empty, so a client that has received nothing still has a position to resume from.
  core::event_id head() const;
  // The resume plan for `from_text` against the current bounds (see resume_plan.hpp).
  resume_plan plan_resume(std::string_view from_text) const;
};

}  // namespace globemeet::server::log
