// Walks a resume replay through the log in bounded steps: the retained events of one tenant
// with seq in (after, up_to] whose topic a predicate accepts (the server passes its pattern
// matcher), in seq order. Each step reads the log once, holding its lock only to copy at most
// `max_events` pointers; filtering runs outside it, so a long replay never blocks appends for
// long. A step can also be held to about `max_bytes` of frames: a disk log decodes every event
// it reads into new memory, so the count, not only the pointers, costs memory.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "globemeet/server/log/event_log.hpp"

namespace globemeet::server::log {

class replay_cursor {
 public:
  using topic_predicate = std::function<bool(std::string_view topic)>;
  static constexpr std::size_t default_chunk = 512;
  static constexpr std::size_t first_read_events = 16;  // with a byte bound, before any size is known

  // `log` must outlive the cursor. For a resume_plan: after = plan.after_seq, up_to = plan.up_to_seq.
  replay_cursor(const event_log& log, std::uint64_t after_seq, std::uint64_t up_to_seq, std::string tenant,
                topic_predicate accept);

  // Examines the next retained events of the range, at most `max_events` of them, and appends
  // the accepted ones to `out` (possibly none). Returns true while more of the range remains;
  // the call that returns false may still have appended the last events.
  // `max_bytes`: the log reads by count, so the cursor reads max_bytes / (the largest frame of
  // its previous read) events, at least one, and at most first_read_events in its first read.
  // Events much larger than the previous read's can still exceed it, by at most one read.
  bool next(std::vector<stored_event_ptr>& out, std::size_t max_events = default_chunk,
            std::size_t max_bytes = std::numeric_limits<std::size_t>::max());

  bool done() const noexcept { return done_; }
  // True when retention dropped events of the range before the cursor reached them: the replay
  // has a gap, and the server should end the connection like an overflow so the client resumes.
  bool lost_events() const noexcept { return lost_; }
  // The seq of the last event examined (after_seq before the first step).
  std::uint64_t position() const noexcept { return position_; }

 private:
  const event_log& log_;
  std::uint64_t position_;
  std::uint64_t up_to_;
  std::string tenant_;
  topic_predicate accept_;
  std::vector<stored_event_ptr> scratch_;
  std::size_t largest_frame_ = 0;  // of the previous read; 0 before the first
  bool done_ = false;
  bool lost_ = false;
};

}  // namespace globemeet::server::log
