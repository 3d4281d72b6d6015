#include "globemeet/server/log/idempotency_index.hpp"

#include "globemeet/server/log/event_log.hpp"

namespace globemeet::server::log {

std::optional<std::uint64_t> idempotency_index::find(const std::string& id, std::int64_t now_ms) {
  expire(now_ms);
  if (auto it = seqs_.find(id); it != seqs_.end()) return it->second;
  return std::nullopt;
}

void idempotency_index::remember(const std::string& id, std::uint64_t seq, std::int64_t time_ms) {
  if (seqs_.emplace(id, seq).second) by_time_.emplace_back(time_ms, id);
}

void idempotency_index::expire(std::int64_t now_ms) {
  while (!by_time_.empty() && by_time_.front().first < now_ms - idempotency_window_ms) {
    seqs_.erase(by_time_.front().second);
    by_time_.pop_front();
  }
}

}  // namespace globemeet::server::log
