// What to do for a client that resumes from an event id (docs/protocol.md section 5): replay
// after it, or send `reset` first and replay what is left, or refuse a `from` that is no id.
// `from` may be `{epoch}-0`, the position before the epoch's first event.
// A pure function of the log's bounds, so every log implementation plans the same way.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace globemeet::server::log {

// A snapshot of a log's extent, taken under the log's lock.
struct log_bounds {
  std::string epoch;            // this log's epoch (lowercase hex)
  std::uint64_t oldest_seq = 1; // seq of the oldest retained event; head_seq + 1 when none is retained
  std::uint64_t head_seq = 0;   // seq of the newest event fanned out; 0 when none was ever stored
  std::size_t size = 0;         // retained events (seq numbers may have gaps)
};

enum class resume_outcome {
  ok,                  // replay (after_seq, up_to_seq]
  invalid_event_id,    // `from` is not an event id: error `invalid_event_id`, nothing subscribed
  future_id,           // same epoch, seq beyond the head: reset, live only
  epoch_changed,       // another epoch: reset, replay every retained event
  retention_exceeded,  // older than the oldest retained: reset, replay every retained event
};

struct resume_plan {
  resume_outcome outcome = resume_outcome::invalid_event_id;
  // Replay the retained events with seq in (after_seq, up_to_seq]; up_to_seq is the head when
  // planned. Live events with seq <= up_to_seq are already covered by the replay: drop them.
  std::uint64_t after_seq = 0;
  std::uint64_t up_to_seq = 0;
  // For the `reset` frame: the id after which delivery continues (the client's new last id);
  // `{epoch}-0` when no event precedes what is delivered (an empty log, or a replay from
  // seq 1), so it is never null. Empty when no reset is needed.
  std::string position;

  bool needs_reset() const noexcept {
    return outcome != resume_outcome::ok && outcome != resume_outcome::invalid_event_id;
  }
  // The `reset.reason` ("future_id", "epoch_changed", "retention_exceeded"); empty otherwise.
  std::string_view reset_reason() const noexcept;
};

// Plans the resume from `from_text` (as the client sent it) against `bounds`.
resume_plan plan_resume(std::string_view from_text, const log_bounds& bounds);

}  // namespace globemeet::server::log
