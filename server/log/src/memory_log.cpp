#include "globemeet/server/log/memory_log.hpp"

#include <algorithm>
#include <exception>
#include <limits>
#include <stdexcept>

#include "globemeet/core/event_id.hpp"

namespace globemeet::server::log {
namespace {

std::string checked_epoch(std::string epoch) {
  if (!is_valid_log_epoch(epoch)) {
    throw std::invalid_argument("event log epoch '" + epoch + "' is not 8 to 16 lowercase hex digits");
  }
  return epoch;
}

retention_policy checked_policy(retention_policy policy) {
  if (policy.max_events < 1) throw std::invalid_argument("event log retention: max_events must be at least 1");
  if (policy.max_age_ms < 1) throw std::invalid_argument("event log retention: max_age_ms must be at least 1");
  return policy;
}

}  // namespace

bool is_valid_log_epoch(std::string_view epoch) noexcept {
  if (epoch.size() < 8 || epoch.size() > 16) return false;
  return std::all_of(epoch.begin(), epoch.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

memory_log::memory_log(std::string epoch, retention_policy policy)
    : epoch_(checked_epoch(std::move(epoch))), policy_(checked_policy(policy)) {}

void memory_log::append(std::vector<events::pending_event> batch, std::int64_t now_ms, append_completion done) {
  append_result result = append(std::move(batch), now_ms);
  if (done) done(std::move(result));
}

event_log::append_result memory_log::append(std::vector<events::pending_event> batch, std::int64_t now_ms) {
  if (batch.empty()) return std::vector<stored_event_ptr>{};
  // Events of a retried publish stored before (same idempotency id) keep their first seq; only
  // the others are stored. `earlier[i]` is event i's first seq, 0 for an event stored now.
  std::vector<std::uint64_t> earlier;
  const bool has_ids = std::any_of(batch.begin(), batch.end(), [](const auto& e) { return !e.idempotency_id.empty(); });

  // Reserve the ids and the time under the lock; serialize outside it.
  std::uint64_t first_seq = 0;
  std::int64_t time_ms = 0;
  std::uint64_t count = batch.size();
  {
    const std::lock_guard lock(mutex_);
    if (has_ids) {
      earlier.assign(batch.size(), 0);
      std::vector<events::pending_event> fresh;
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (!batch[i].idempotency_id.empty())
          if (auto seq = idempotency_.find(batch[i].idempotency_id, now_ms)) {
            earlier[i] = *seq;
            continue;
          }
        fresh.push_back(std::move(batch[i]));
      }
      batch = std::move(fresh);
      count = batch.size();
    }
    if (count > core::max_seq - (next_seq_ - 1)) {
      return core::error{std::string(log_unavailable_code),
                         "the log has no sequence numbers left in epoch " + epoch_ + "; restart it with a new epoch"};
    }
    first_seq = next_seq_;
    next_seq_ += count;
    time_ms = std::max(now_ms, last_time_ms_);
    last_time_ms_ = time_ms;
    // Remembered at once, so a retry that races this append finds these seqs too.
    for (std::size_t i = 0; i < batch.size(); ++i)
      if (!batch[i].idempotency_id.empty()) idempotency_.remember(batch[i].idempotency_id, first_seq + i, time_ms);
  }
  if (count == 0) return with_earlier({}, earlier);
  const std::uint64_t last_seq = first_seq + count - 1;

  std::vector<stored_event_ptr> records;
  bool built = true;
  try {
    records = build_stored_events(batch, epoch_, first_seq, time_ms);
  } catch (const std::exception&) {
    // Out of memory: the reserved ids stay unused (a gap is allowed; a stall is not).
    records.clear();
    built = false;
  }

  std::vector<stored_event_ptr> dropped;
  {
    std::unique_lock lock(mutex_);
    commit_in_order(lock, first_seq, last_seq, records, time_ms, dropped);
  }
  dropped.clear();  // the last references to trimmed frames go here, outside the lock
  notify_in_order(first_seq, last_seq, records);

  if (!built) return core::error{std::string(log_unavailable_code), "the event log could not store the batch"};
  if (has_ids) return with_earlier(std::move(records), earlier);
  return records;
}

std::vector<stored_event_ptr> memory_log::with_earlier(std::vector<stored_event_ptr> stored,
                                                       const std::vector<std::uint64_t>& earlier) const {
  if (earlier.empty()) return stored;
  std::vector<stored_event_ptr> result;
  result.reserve(earlier.size());
  std::size_t next_stored = 0;
  const std::lock_guard lock(mutex_);
  for (std::uint64_t seq : earlier) {
    if (seq == 0) {
      result.push_back(stored[next_stored++]);
      continue;
    }
    auto it = std::lower_bound(events_.begin(), events_.end(), seq,
                               [](const stored_event_ptr& event, std::uint64_t s) { return event->seq < s; });
    if (it != events_.end() && (*it)->seq == seq) {
      result.push_back(*it);
    } else {  // retention dropped it since: its id is what the publisher needs
      auto gone = std::make_shared<stored_event>();
      gone->seq = seq;
      gone->id = core::event_id{epoch_, seq}.str();
      result.push_back(std::move(gone));
    }
  }
  return result;
}

void memory_log::commit_in_order(std::unique_lock<std::mutex>& lock, std::uint64_t first_seq,
                                 std::uint64_t last_seq, std::vector<stored_event_ptr>& records,
                                 std::int64_t now_ms, std::vector<stored_event_ptr>& dropped) {
  // Batches serialized in parallel commit in reservation order, so the log never has a hole
  // that a later commit fills (a reader would have skipped it).
  committed_cv_.wait(lock, [&] { return committed_seq_ == first_seq - 1; });
  for (const stored_event_ptr& record : records) events_.push_back(record);
  committed_seq_ = last_seq;
  trim_locked(now_ms, dropped);
  committed_cv_.notify_all();
}

void memory_log::notify_in_order(std::uint64_t first_seq, std::uint64_t last_seq,
                                 const std::vector<stored_event_ptr>& records) {
  std::shared_ptr<const append_listener> listener;
  {
    std::unique_lock lock(mutex_);
    notified_cv_.wait(lock, [&] { return notified_seq_ == first_seq - 1; });
    listener = listener_;
  }
  // Whatever the listener does, the next batch's turn must come. The head moves only now:
  // whoever reads bounds() under the lock its listener takes sees every event up to the head
  // delivered before, and every later one delivered after.
  struct advance_turn {
    memory_log& log;
    std::uint64_t last_seq;
    bool stored;
    ~advance_turn() {
      const std::lock_guard lock(log.mutex_);
      log.notified_seq_ = last_seq;
      if (stored) log.head_seq_ = last_seq;
      log.notified_cv_.notify_all();
    }
  } turn{*this, last_seq, !records.empty()};
  if (listener && *listener && !records.empty()) (*listener)(records);
}

void memory_log::trim_locked(std::int64_t now_ms, std::vector<stored_event_ptr>& dropped) {
  while (events_.size() > policy_.max_events) {
    dropped.push_back(std::move(events_.front()));
    events_.pop_front();
  }
  // Events stamped before `cutoff` are older than max_age_ms. Times ascend with seq, so the
  // old ones are all at the front.
  if (now_ms < std::numeric_limits<std::int64_t>::min() + policy_.max_age_ms) return;
  const std::int64_t cutoff = now_ms - policy_.max_age_ms;
  while (!events_.empty() && events_.front()->time_ms < cutoff) {
    dropped.push_back(std::move(events_.front()));
    events_.pop_front();
  }
}

std::size_t memory_log::trim(std::int64_t now_ms) {
  std::vector<stored_event_ptr> dropped;
  {
    const std::lock_guard lock(mutex_);
    trim_locked(now_ms, dropped);
  }
  return dropped.size();
}

read_status memory_log::read(std::uint64_t after_seq, std::uint64_t up_to_seq, std::size_t max_count,
                             std::vector<stored_event_ptr>& out) const {
  read_status status;
  const std::lock_guard lock(mutex_);
  status.oldest_seq = events_.empty() ? head_seq_ + 1 : events_.front()->seq;
  auto it = std::upper_bound(events_.begin(), events_.end(), after_seq,
                             [](std::uint64_t seq, const stored_event_ptr& event) { return seq < event->seq; });
  for (; it != events_.end() && status.copied < max_count && (*it)->seq <= up_to_seq; ++it) {
    out.push_back(*it);
    ++status.copied;
  }
  return status;
}

log_bounds memory_log::bounds() const {
  log_bounds result;
  result.epoch = epoch_;
  const std::lock_guard lock(mutex_);
  result.head_seq = head_seq_;
  result.oldest_seq = events_.empty() ? head_seq_ + 1 : events_.front()->seq;
  result.size = events_.size();
  return result;
}

void memory_log::set_listener(append_listener listener) {
  auto shared = listener ? std::make_shared<const append_listener>(std::move(listener)) : nullptr;
  const std::lock_guard lock(mutex_);
  listener_ = std::move(shared);
}

}  // namespace globemeet::server::log
