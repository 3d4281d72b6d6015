// The event log in memory: one ordered log per process, bounded by count and by age.
// Appends from several threads serialize their frames in parallel and commit in seq order;
// readers hold the lock only to copy pointers.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "globemeet/server/log/event_log.hpp"
#include "globemeet/server/log/idempotency_index.hpp"

namespace globemeet::server::log {

struct retention_policy {
  std::size_t max_events = 100'000;     // at least 1
  std::int64_t max_age_ms = 3'600'000;  // at least 1: events older than this are dropped
};

// True when `epoch` is 8 to 16 lowercase hex digits (what memory_log accepts; the server
// draws it at random at startup so that a restarted log is told apart from the previous one).
bool is_valid_log_epoch(std::string_view epoch) noexcept;

class memory_log final : public event_log {
 public:
  // Throws std::invalid_argument when the epoch or the policy is invalid (a startup error).
  memory_log(std::string epoch, retention_policy policy);
  memory_log(const memory_log&) = delete;
  memory_log& operator=(const memory_log&) = delete;

  const std::string& epoch() const noexcept override { return epoch_; }
  const retention_policy& policy() const noexcept { return policy_; }

  // Stores at once, on the calling thread: `done` runs before append returns.
  void append(std::vector<events::pending_event> batch, std::int64_t now_ms, append_completion done) override;
  // The same, returning the result.
  append_result append(std::vector<events::pending_event> batch, std::int64_t now_ms);
  std::size_t trim(std::int64_t now_ms) override;
  read_status read(std::uint64_t after_seq, std::uint64_t up_to_seq, std::size_t max_count,
                   std::vector<stored_event_ptr>& out) const override;
  log_bounds bounds() const override;
  void set_listener(append_listener listener) override;

 private:
  // With the lock held: moves what retention drops into `dropped` (freed after unlocking).
  void trim_locked(std::int64_t now_ms, std::vector<stored_event_ptr>& dropped);
  // With the lock held, waits for this batch's turn and commits it (records may be empty when
  // building failed, so that later batches are not held up by a gap that will never fill).
  void commit_in_order(std::unique_lock<std::mutex>& lock, std::uint64_t first_seq, std::uint64_t last_seq,
                       std::vector<stored_event_ptr>& records, std::int64_t now_ms,
                       std::vector<stored_event_ptr>& dropped);
  // The result of an append that skipped events stored before: `stored` (the new events, in
  // order) merged with those earlier ones (earlier[i] != 0) in batch order.
  std::vector<stored_event_ptr> with_earlier(std::vector<stored_event_ptr> stored,
                                             const std::vector<std::uint64_t>& earlier) const;
  void notify_in_order(std::uint64_t first_seq, std::uint64_t last_seq,
                       const std::vector<stored_event_ptr>& records);

  const std::string epoch_;
  const retention_policy policy_;

  mutable std::mutex mutex_;
  std::condition_variable committed_cv_;
  std::condition_variable notified_cv_;
  std::deque<stored_event_ptr> events_;  // ascending seq
  std::uint64_t next_seq_ = 1;           // next seq to reserve
  std::uint64_t committed_seq_ = 0;      // every seq up to this is committed (or abandoned)
  std::uint64_t notified_seq_ = 0;       // every seq up to this was given to the listener
  std::uint64_t head_seq_ = 0;           // newest stored seq handed to the listener
  std::int64_t last_time_ms_ = 0;        // newest stamped time; times never go back
  std::shared_ptr<const append_listener> listener_;  // copied per batch, called unlocked
  idempotency_index idempotency_;
};

}  // namespace globemeet::server::log
