// The last-value cache behind `subscribe` with `snapshot` (docs/protocol.md section 5.3): per
// tenant, the latest stored event of each topic. It holds the log's shared stored events (their
// frames already encoded), so a snapshot costs no encoding; at most `max_topics` topics per
// tenant (the least recently updated is forgotten first), and only events the log still
// retains (forget_before).
//
// Not thread-safe: the server's fan-out updates it and takes snapshots under its own lock, which
// is what makes a snapshot and the live events after it meet without a gap or a duplicate.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "globemeet/server/log/event_log.hpp"

namespace globemeet::server::log {

class last_value_cache {
 public:
  // At least 1.
  explicit last_value_cache(std::size_t max_topics_per_tenant);
  last_value_cache(const last_value_cache&) = delete;
  last_value_cache& operator=(const last_value_cache&) = delete;

  // Makes each event its topic's latest. Events come in seq order (as the log hands them out);
  // one older than the topic's current entry is ignored.
  void update(std::span<const stored_event_ptr> events);
  // Forgets the entries whose event is older than `oldest_seq`, the log's oldest retained
  // event: retention dropped them. Returns how many.
  std::size_t forget_before(std::uint64_t oldest_seq);

  // Appends to `out`, in seq order, the latest event of each topic of `tenant` for which
  // `wanted(topic)` is true, among those with seq in [oldest_seq, up_to_seq].
  void collect(std::string_view tenant, const std::function<bool(std::string_view topic)>& wanted,
               std::uint64_t oldest_seq, std::uint64_t up_to_seq, std::vector<stored_event_ptr>& out) const;

  std::size_t topics() const noexcept { return topics_; }  // over all tenants
  std::size_t topics(std::string_view tenant) const;
  std::size_t tenants() const noexcept { return tenants_.size(); }
  // The bytes of the frames the cache holds (what an entry costs besides ~150 bytes of
  // bookkeeping); with the topic limit, what bounds its memory.
  std::size_t frame_bytes() const noexcept { return frame_bytes_; }
  std::size_t max_topics_per_tenant() const noexcept { return max_topics_; }

 private:
  struct tenant_entries {
    std::map<std::uint64_t, stored_event_ptr> by_seq;                // oldest first: eviction order
    std::unordered_map<std::string_view, std::uint64_t> seq_of_topic;  // views into by_seq's topics
  };
  void erase(tenant_entries& entries, std::map<std::uint64_t, stored_event_ptr>::iterator it);

  const std::size_t max_topics_;
  std::unordered_map<std::string, tenant_entries> tenants_;
  std::size_t topics_ = 0;
  std::size_t frame_bytes_ = 0;
};

// The WebSocket frame of `event` as a snapshot event: its stored frame with "snapshot":true
// spliced in before `data` (the member order of core::codec::encode_event).
std::string snapshot_frame(const stored_event& event);

}  // namespace globemeet::server::log
