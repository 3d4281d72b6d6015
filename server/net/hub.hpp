// Fan-out: which connections receive a stored event. Per tenant, a core::subscription_index of
// connection ids; the log's append listener matches each run of same-topic events once and
// hands each matching connection, in one call per appended batch, the shared frames it gets. The hub's lock orders fan-out against subscription
// changes, so a subscriber can take the log's head under the same lock and know that every
// later event reaches it live and every earlier one is in the log for replay. The last-value
// cache is updated under the same lock, so a snapshot taken there ends exactly where the live
// events begin.
#pragma once
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "globemeet/core/event_id.hpp"
#include "globemeet/core/subscription_index.hpp"
#include "globemeet/server/log/event_log.hpp"
#include "globemeet/server/log/last_value_cache.hpp"

namespace globemeet::server::net {

// Consecutive events of one batch on one tenant and topic.
using event_run = std::span<const log::stored_event_ptr>;

// Implemented by a WebSocket session.
class event_sink {
 public:
  // Called under the hub's lock, once per fanned-out batch (or per part of a very large one),
  // with every event of it that matches this sink, as runs in seq order: the receiver queues
  // them all under one lock.
  // Must be quick and must not call the hub. `now_us` (steady clock) is read once per batch,
  // not once per receiver.
  virtual void deliver_live(std::span<const event_run> runs, std::int64_t now_us) = 0;

 protected:
  ~event_sink() = default;
};

class hub {
 public:
  using connection_id = core::subscription_index::subscriber;
  // Runs under the hub's lock with the log's extent at that instant, its head being the newest
  // event already fanned out: every later event reaches the new patterns live, every earlier
  // one is in the log for replay.
  using locked_step = std::function<void(const log::log_bounds&)>;

  // Runs `task` on an I/O thread and returns once it has run. A durable log calls its listener
  // on its own thread, but sessions queue their writes per I/O thread, so the server hands
  // fan-out to one; the log waits, which keeps every ordering guarantee of event_log.hpp.
  using io_runner = std::function<void(const std::function<void()>& task)>;

  // Installs itself as the log's append listener; `log` must outlive the hub. The last-value
  // cache (at most `snapshot_topics` per tenant) is rebuilt from the events the log retains.
  explicit hub(log::event_log& log, std::size_t snapshot_topics = 10'000);
  // Fan-out runs through `runner` from now on (without one: on the thread that calls the listener).
  void run_fan_out_with(io_runner runner);
  hub(const hub&) = delete;
  hub& operator=(const hub&) = delete;

  // Adds valid `patterns` for `who` (the sink receives live events of `tenant` from now on),
  // then runs `step` before any event can reach the sink through these patterns.
  void subscribe(std::string_view tenant, connection_id who, event_sink& sink, std::span<const std::string> patterns,
                 const locked_step& step);
  // Only from inside a subscribe step (the hub's lock is held there): appends to `out` the
  // tenant's latest event of every topic one of `patterns` matches, in seq order, among the
  // events `bounds` (the step's) retains: exactly what precedes the live events of the step.
  void latest_in_step(std::string_view tenant, std::span<const std::string> patterns, const log::log_bounds& bounds,
                      std::vector<log::stored_event_ptr>& out) const;
  void unsubscribe(std::string_view tenant, connection_id who, std::span<const std::string> patterns);
  // Removes everything of `who`; after it returns the sink is never called again.
  void detach(std::string_view tenant, connection_id who, std::span<const std::string> patterns);

  std::size_t tenant_count() const;
  // Drops from the last-value cache what the log no longer retains (called periodically).
  void forget_retired();
  // The cache's topics over all tenants and the bytes of their frames (logged at start).
  std::pair<std::size_t, std::size_t> cache_size() const;

  // The newest event fanned out (what `ready.head` names); `{epoch}-0` before the first.
  core::event_id head() const;

 private:
  struct receiver {
    event_sink* sink = nullptr;
    std::uint32_t mark = 0;  // fan_out's per-batch counter; 0 outside it
  };
  struct tenant_state {
    core::subscription_index index;
    std::unordered_map<connection_id, receiver> receivers;  // elements never move: fan_out points at them
  };

  void fan_out(std::span<const log::stored_event_ptr> batch);
  // Hands each receiver collected so far its runs, then empties the scratch below.
  void deliver_grouped(std::int64_t now_us);
  static constexpr std::size_t max_grouped_deliveries = 65'536;

  mutable std::mutex mutex_;
  log::event_log& log_;
  io_runner runner_;  // set before the first append
  log::last_value_cache latest_;
  std::unordered_map<std::string, tenant_state> tenants_;
  // Scratch of fan_out, under the lock (kept to reuse its memory).
  std::vector<connection_id> matched_;
  std::vector<event_run> runs_;                                // the batch's runs that matched someone
  std::vector<std::pair<receiver*, std::uint32_t>> deliveries_;  // (receiver, index in runs_), batch order
  std::vector<receiver*> receivers_;                           // with deliveries, first-seen order
  std::vector<event_run> grouped_;                             // runs_ again, grouped by receiver
  // The log may have committed events whose fan-out has not run yet; positions handed to
  // subscribers stop at what was fanned out, so those events reach them live.
  std::uint64_t fanned_out_seq_ = 0;
};

}  // namespace globemeet::server::net
