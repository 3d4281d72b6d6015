#include "globemeet/server/log/replay_cursor.hpp"

#include <algorithm>
#include <limits>

namespace globemeet::server::log {

replay_cursor::replay_cursor(const event_log& log, std::uint64_t after_seq, std::uint64_t up_to_seq,
                             std::string tenant, topic_predicate accept)
    : log_(log),
      position_(after_seq),
      up_to_(up_to_seq),
      tenant_(std::move(tenant)),
      accept_(std::move(accept)),
      done_(after_seq >= up_to_seq) {}

bool replay_cursor::next(std::vector<stored_event_ptr>& out, std::size_t max_events, std::size_t max_bytes) {
  if (done_) return false;
  std::size_t chunk = std::max<std::size_t>(max_events, 1);
  if (max_bytes != std::numeric_limits<std::size_t>::max()) {
    chunk = std::min(chunk, largest_frame_ == 0 ? first_read_events : std::max<std::size_t>(max_bytes / largest_frame_, 1));
  }
  scratch_.clear();
  const read_status status = log_.read(position_, up_to_, chunk, scratch_);
  // Seqs of the range below the oldest retained one were trimmed before the cursor got there.
  if (position_ < std::min(status.oldest_seq - 1, up_to_)) lost_ = true;

  if (status.copied < chunk) {
    done_ = true;
    position_ = up_to_;
  } else {
    position_ = scratch_.back()->seq;
  }
  largest_frame_ = 0;
  for (stored_event_ptr& event : scratch_) {
    largest_frame_ = std::max(largest_frame_, event->websocket_frame.size());
    if (event->tenant == tenant_ && (!accept_ || accept_(event->topic))) out.push_back(std::move(event));
  }
  scratch_.clear();
  if (position_ >= up_to_) done_ = true;
  return !done_;
}

}  // namespace globemeet::server::log
