// read() for a log that keeps its newest events in memory (the window) over a cold store that
// holds the older ones: sqlite_log (disk) and jetstream_log (JetStream). Events in the window are
// copied under the log's lock; older ones are read from the store without it, in chunks, and the
// window may move on meanwhile, so each turn asks again where it starts.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "globemeet/server/log/event_log.hpp"

namespace globemeet::server::log {

// The log's members that mutex guards.
struct locked_window {
  std::mutex& mutex;
  const std::deque<stored_event_ptr>& events;  // the newest events, ascending
  const std::uint64_t& head_seq;
  const std::uint64_t& oldest_seq;
};

// `read_cold(first, last, max_count, out)` appends the stored events first..last, at most
// max_count, and returns false when the store cannot be read now: the rest of the range is then
// reported lost (oldest_seq past it), so the replay ends like an overflow and the client resumes
// from what it has.
template <class ReadCold>
read_status read_through_window(const locked_window& window, std::uint64_t after_seq, std::uint64_t up_to_seq,
                                std::size_t max_count, std::vector<stored_event_ptr>& out, ReadCold&& read_cold) {
  read_status status;
  std::uint64_t next = after_seq + 1;
  bool first = true;
  for (;;) {
    std::uint64_t window_first = 0;
    {
      const std::lock_guard lock(window.mutex);
      // Retention that passed `next` while this read was under way removed part of the range:
      // the reader sees it as a gap, as if retention had come first.
      if (first || window.oldest_seq > next) status.oldest_seq = window.oldest_seq;
      first = false;
      next = std::max(next, window.oldest_seq);
      window_first = window.events.empty() ? window.head_seq + 1 : window.events.front()->seq;
      if (next >= window_first || next > up_to_seq) {
        auto it = std::lower_bound(window.events.begin(), window.events.end(), next,
                                   [](const stored_event_ptr& event, std::uint64_t seq) { return event->seq < seq; });
        for (; it != window.events.end() && status.copied < max_count && (*it)->seq <= up_to_seq; ++it) {
          out.push_back(*it);
          ++status.copied;
        }
        return status;
      }
    }
    const std::size_t before = out.size();
    const std::uint64_t last = std::min(up_to_seq, window_first - 1);
    if (!read_cold(next, last, max_count - status.copied, out)) {
      out.resize(before);
      status.oldest_seq = up_to_seq + 1;
      return status;
    }
    status.copied += out.size() - before;
    if (status.copied >= max_count) return status;
    next = last + 1;  // fewer events than asked for: the cold part of the range is done
  }
}

}  // namespace globemeet::server::log
