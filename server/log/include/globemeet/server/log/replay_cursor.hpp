// Walks a resume replay through the log in bounded steps: the retained events of one tenant
// with seq in (after, up_to] whose topic a predicate accepts (the server passes its pattern
// matcher), in seq order. Each step holds the log's lock once, to copy at most `chunk`
// pointers; filtering runs outside it, so a 100,000-event replay never blocks appends for long.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "globemeet/server/log/event_log.hpp"

namespace globemeet::server::log {

class replay_cursor {
 public:
  using topic_predicate = std::function<bool(std::string_view topic)>;
  static constexpr std::size_t default_chunk = 512;

  // `log` must outlive the cursor. For a resume_plan: after = plan.after_seq, up_to = plan.up_to_seq.
  replay_cursor(const event_log& log, std::uint64_t after_seq, std::uint64_t up_to_seq, std::string tenant,
                topic_predicate accept);

  // Examines the next at most `chunk` retained events of the range and appends the accepted
  // ones to `out` (possibly none). Returns true while more of the range remains; the call that
  // returns false may still have appended the last events.
  bool next(std::vector<stored_event_ptr>& out, std::size_t chunk = default_chunk);

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
  bool done_ = false;
  bool lost_ = false;
};

}  // namespace globemeet::server::log
