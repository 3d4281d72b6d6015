#include "hub.hpp"

#include <algorithm>
#include <utility>

#include "globemeet/core/topic.hpp"

#include "server_state.hpp"

namespace globemeet::server::net {

namespace {
constexpr std::size_t rebuild_chunk_events = 4096;
}  // namespace

// A durable log reopens with events stored by an earlier run: they count as fanned out, and
// the newest of each topic goes into the last-value cache. (A jetstream log hands its events to
// the listener as it catches up with the stream after start(): fan_out fills the cache then.)
hub::hub(log::event_log& log, std::size_t snapshot_topics)
    : log_(log), latest_(snapshot_topics), fanned_out_seq_(log.bounds().head_seq) {
  std::vector<log::stored_event_ptr> chunk;
  for (std::uint64_t after = 0; after < fanned_out_seq_;) {
    chunk.clear();
    log_.read(after, fanned_out_seq_, rebuild_chunk_events, chunk);
    if (chunk.empty()) break;
    latest_.update(chunk);
    after = chunk.back()->seq;
  }
  log_.set_listener([this](std::span<const log::stored_event_ptr> batch) {
    if (runner_)
      runner_([this, batch] { fan_out(batch); });
    else
      fan_out(batch);
  });
}

void hub::run_fan_out_with(io_runner runner) { runner_ = std::move(runner); }

void hub::subscribe(std::string_view tenant, connection_id who, event_sink& sink,
                    std::span<const std::string> patterns, const locked_step& step) {
  std::lock_guard lock(mutex_);
  auto it = tenants_.find(std::string(tenant));
  if (it == tenants_.end()) it = tenants_.emplace(std::string(tenant), tenant_state{}).first;
  it->second.receivers[who].sink = &sink;
  for (const auto& pattern : patterns) it->second.index.add(pattern, who);
  // The log's listener runs under this lock too, so no event can slip between the position
  // taken here and the patterns added above.
  log::log_bounds bounds = log_.bounds();
  bounds.head_seq = fanned_out_seq_;
  step(bounds);
}

void hub::latest_in_step(std::string_view tenant, std::span<const std::string> patterns,
                         const log::log_bounds& bounds, std::vector<log::stored_event_ptr>& out) const {
  latest_.collect(
      tenant,
      [&](std::string_view topic) {
        return std::any_of(patterns.begin(), patterns.end(),
                           [&](const std::string& p) { return core::topic::matches(p, topic); });
      },
      bounds.oldest_seq, bounds.head_seq, out);
}

void hub::unsubscribe(std::string_view tenant, connection_id who, std::span<const std::string> patterns) {
  std::lock_guard lock(mutex_);
  auto it = tenants_.find(std::string(tenant));
  if (it == tenants_.end()) return;
  for (const auto& pattern : patterns) it->second.index.remove(pattern, who);
}

void hub::detach(std::string_view tenant, connection_id who, std::span<const std::string> patterns) {
  std::lock_guard lock(mutex_);
  auto it = tenants_.find(std::string(tenant));
  if (it == tenants_.end()) return;
  for (const auto& pattern : patterns) it->second.index.remove(pattern, who);
  it->second.receivers.erase(who);
  if (it->second.receivers.empty() && it->second.index.empty()) tenants_.erase(it);
}

std::size_t hub::tenant_count() const {
  std::lock_guard lock(mutex_);
  return tenants_.size();
}

void hub::forget_retired() {
  const std::uint64_t oldest = log_.bounds().oldest_seq;
  std::lock_guard lock(mutex_);
  latest_.forget_before(oldest);
}

std::pair<std::size_t, std::size_t> hub::cache_size() const {
  std::lock_guard lock(mutex_);
  return {latest_.topics(), latest_.frame_bytes()};
}

core::event_id hub::head() const {
  std::lock_guard lock(mutex_);
  return core::event_id{log_.epoch(), fanned_out_seq_};
}

void hub::fan_out(std::span<const log::stored_event_ptr> batch) {
  std::lock_guard lock(mutex_);
  if (!batch.empty()) fanned_out_seq_ = batch.back()->seq;  // batches come in seq order
  latest_.update(batch);
  const std::int64_t now_us = steady_now_us();
  // Consecutive events of one tenant and topic match the same connections: match each run once.
  for (std::size_t first = 0; first < batch.size();) {
    const auto& head = *batch[first];
    std::size_t end = first + 1;
    while (end < batch.size() && batch[end]->topic == head.topic && batch[end]->tenant == head.tenant) ++end;
    const event_run run = batch.subspan(first, end - first);
    first = end;
    auto it = tenants_.find(head.tenant);  // tenant isolation: only this tenant's index
    if (it == tenants_.end()) continue;
    matched_.clear();
    it->second.index.match(head.topic, matched_);
    if (matched_.empty()) continue;
    const auto run_index = static_cast<std::uint32_t>(runs_.size());
    runs_.push_back(run);
    for (auto who : matched_) {
      auto found = it->second.receivers.find(who);
      if (found == it->second.receivers.end()) continue;
      receiver* r = &found->second;
      if (r->mark++ == 0) receivers_.push_back(r);
      deliveries_.emplace_back(r, run_index);
    }
    // A batch of many topics with many receivers each is delivered in parts, so the scratch
    // stays bounded (1,000 alternating topics to 10,000 `>` holders would be 10 M entries).
    if (deliveries_.size() >= max_grouped_deliveries) deliver_grouped(now_us);
  }
  deliver_grouped(now_us);
}

void hub::deliver_grouped(std::int64_t now_us) {
  // Each receiver gets all of its runs in one call (one lock on its queue, not one per run),
  // still in batch order: a stable counting sort of the deliveries by receiver.
  std::uint32_t offset = 0;
  for (receiver* r : receivers_) offset += std::exchange(r->mark, offset);  // mark: where its runs start
  grouped_.resize(deliveries_.size());
  for (const auto& [r, run_index] : deliveries_) grouped_[r->mark++] = runs_[run_index];  // mark: where they end
  std::uint32_t start = 0;
  for (receiver* r : receivers_) {
    const std::uint32_t end = std::exchange(r->mark, 0);
    r->sink->deliver_live(std::span<const event_run>(grouped_).subspan(start, end - start), now_us);
    start = end;
  }
  runs_.clear();
  deliveries_.clear();
  receivers_.clear();
}

}  // namespace globemeet::server::net
