// The idempotency ids (events::pending_event::idempotency_id) an embedded log stored within the
// idempotency window, and the seq each got: how memory_log and sqlite_log answer a retried
// publish with the ids of its first attempt instead of storing it twice, as JetStream does with
// Nats-Msg-Id. Not thread-safe: the log holds its lock around it.
#pragma once
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace globemeet::server::log {

class idempotency_index {
 public:
  // The seq stored under `id`, if it was remembered at most idempotency_window_ms before `now_ms`.
  std::optional<std::uint64_t> find(const std::string& id, std::int64_t now_ms);
  // Remembers `id` for seq, stored at `time_ms` (ascending between calls).
  void remember(const std::string& id, std::uint64_t seq, std::int64_t time_ms);
  // Forgets the ids older than the window at `now_ms`.
  void expire(std::int64_t now_ms);
  std::size_t size() const noexcept { return seqs_.size(); }

 private:
  std::unordered_map<std::string, std::uint64_t> seqs_;
  std::deque<std::pair<std::int64_t, std::string>> by_time_;  // ascending time
};

}  // namespace globemeet::server::log
