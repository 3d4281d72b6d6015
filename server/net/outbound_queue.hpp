// The bounded queue of frames waiting to be written to one WebSocket connection. An event is
// queued as a pointer to the log's stored event, whose bytes are already the complete WebSocket
// frame shared by every receiver; replies and control frames carry their own bytes. The writer
// takes everything pending at once and sends it with one write.
//
// A connection that asked for conflation (docs/protocol.md section 7.1) keeps at most one
// waiting live event per gauge topic: a newer one removes the older from the pending list
// (leaving an empty slot the writer skips) and is appended at the end.
//
// Thread-safe: fan-out pushes from whichever thread appended to the log, the connection's
// strand takes batches. Pure bookkeeping, no I/O, so it is unit-testable.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "globemeet/server/log/event_log.hpp"
#include "globemeet/server/wire/frame_writer.hpp"

namespace globemeet::server::net {

// 32 bytes: fan-out constructs one per delivery, so an event's entry holds nothing else.
struct outbound_frame {
  log::stored_event_ptr event;          // an event: its stored WebSocket frame is what is sent
  std::unique_ptr<const std::string> own;  // otherwise: this connection's own complete frame
  std::int64_t queued_at_us = 0;           // steady clock, for the lag limit

  static outbound_frame of_event(log::stored_event_ptr event, std::int64_t queued_at_us);
  // One complete frame of `op` carrying `payload` (control payloads already cut to size).
  static outbound_frame of_bytes(wire::opcode op, std::string_view payload, std::int64_t queued_at_us);
  // `frame` is already one complete frame.
  static outbound_frame of_frame(std::string frame, std::int64_t queued_at_us);

  std::string_view bytes() const noexcept {
    return event ? std::string_view(event->websocket_frame) : std::string_view(*own);
  }
  std::size_t wire_size() const noexcept { return bytes().size(); }
  // A slot whose event was conflated away: the writer skips it.
  bool removed() const noexcept { return !event && !own; }
  bool is_close() const noexcept {
    return !event && own && !own->empty() &&
           (static_cast<std::uint8_t>((*own)[0]) & 0x0F) == static_cast<std::uint8_t>(wire::opcode::close);
  }
};

class outbound_queue {
 public:
  enum class push_result {
    queued,          // the writer is busy; it will pick the frame up
    start_writer,    // the queue was idle: the caller must schedule a write
    closed,          // the connection is closing: frame discarded
  };

  struct push_outcome {
    push_result result = push_result::queued;
    std::int64_t oldest_queued_at_us = 0;  // of the oldest unwritten frame (this one included)
    std::size_t queued_bytes = 0;          // unwritten bytes, this frame included
    std::size_t conflated = 0;             // older gauge events this push removed
  };

  // From now on live gauge events are conflated (for the connection's lifetime).
  void conflate_gauges();

  // What the caller needs for the overflow rule comes back with the push: one lock per frame.
  push_outcome push(outbound_frame frame);
  // Queues runs of events under one lock (what one fan-out batch has for the connection); at
  // least one event. Only `live` events are conflated (never replayed ones).
  push_outcome push_events(std::span<const std::span<const log::stored_event_ptr>> runs, std::int64_t queued_at_us,
                           bool live = true);

  // Moves every pending frame into `batch` (cleared first) and marks them in flight. Returns
  // false, and marks the writer idle, when nothing is pending.
  bool take_batch(std::vector<outbound_frame>& batch);
  // The in-flight batch was written.
  void batch_written();
  // Gives back the pending list's memory when nothing is pending: an idle connection then holds
  // none (the next push allocates again).
  void release_spare_capacity();

  // The age of the oldest frame not yet written (in flight or pending), 0 when none, and the
  // bytes queued; what the overflow rule looks at.
  std::int64_t oldest_age_us(std::int64_t now_us) const;
  std::size_t queued_bytes() const;

  // From now on only `final_frames` are sent: pending frames are dropped (their count is
  // returned) and later pushes are discarded. For overflow and shutdown closes.
  // With `keep_pending` the frames already queued still go first (a polite close).
  std::size_t close_with(std::vector<outbound_frame> final_frames, bool keep_pending, bool& start_writer);
  bool closed() const;

 private:
  push_outcome pushed(std::lock_guard<std::mutex>&);  // the outcome of a push that queued
  // With the lock held: appends a live gauge event, removing the older one of its topic.
  void push_conflated(const log::stored_event_ptr& event, std::int64_t queued_at_us, push_outcome& out);
  // With the lock held: the oldest pending frame still to be written (skips removed slots).
  const outbound_frame* oldest_pending() const;

  mutable std::mutex mutex_;
  std::vector<outbound_frame> pending_;
  // Conflation: the pending slot of each gauge topic's waiting live event (views into the
  // events' topics, which the pending frames keep alive); removed slots and the first slot
  // that may still be live.
  bool conflating_ = false;
  std::unordered_map<std::string_view, std::size_t> gauge_slots_;
  std::size_t removed_ = 0;
  mutable std::size_t first_live_ = 0;  // advanced lazily past removed slots
  std::size_t pending_bytes_ = 0;
  std::size_t in_flight_bytes_ = 0;
  std::int64_t in_flight_oldest_us_ = 0;  // 0: nothing in flight
  bool writing_ = false;
  bool closed_ = false;
};

}  // namespace globemeet::server::net
