// The durable event log, the embedded default: one SQLite database in WAL mode in the data
// directory (SQLite rather than a storage engine of our own: it is the most tested one there
// is, survives kill -9 and power loss by design, and an operator can read the log with the
// sqlite3 shell; docs/server.md).
//
// Appends queue to one writer thread, which stores everything that queued meanwhile in one
// transaction (group commit): durability costs one fsync per commit, not per request. Only
// after the commit are the events fanned out and the appends completed, so an id that anyone
// has seen is on disk and is never handed out again. The epoch is stored with the log, so ids
// continue in the same epoch after a restart. The newest events stay in memory for fan-out and
// fast replay; older ones are read from disk in bounded chunks.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "globemeet/server/log/event_log.hpp"
#include "globemeet/server/log/idempotency_index.hpp"
#include "globemeet/server/log/memory_log.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace globemeet::server::log {

struct sqlite_log_options {
  std::string path;                    // the database file, e.g. DIR/events.db
  retention_policy retention;  // applied on disk
  std::size_t memory_events = 100'000; // newest events also kept in memory (capped by retention)
  // false: a commit is acknowledged once written to the OS, before fsync. It then survives a
  // crash of the server but not of the machine (docs/server.md, "Durability").
  bool fsync = true;
};

// What opening found, for the operator's log.
struct open_report {
  bool created = false;         // a new database (and epoch)
  bool unclean = false;         // the previous run did not shut down cleanly
  std::uint64_t wal_bytes_dropped = 0;  // a torn write-ahead tail: a commit never acknowledged
  std::uint64_t head_seq = 0;
  std::uint64_t oldest_seq = 1;
  std::uint64_t retained = 0;
};

class sqlite_log final : public event_log {
 public:
  // Opens the database at options.path, creating it with `new_epoch` when it does not exist,
  // and recovers what a crash left. The error message names the file and what is wrong.
  static core::result<std::unique_ptr<sqlite_log>> open(sqlite_log_options options, std::string new_epoch,
                                                        open_report* report = nullptr);
  ~sqlite_log() override;  // close()
  sqlite_log(const sqlite_log&) = delete;
  sqlite_log& operator=(const sqlite_log&) = delete;

  const std::string& epoch() const noexcept override { return epoch_; }
  void append(std::vector<events::pending_event> batch, std::int64_t now_ms, append_completion done) override;
  std::optional<std::string> unavailable_reason() const override;
  // Applies retention at `now_ms` on the writer thread, soon; returns 0 (the count is not known yet).
  std::size_t trim(std::int64_t now_ms) override;
  read_status read(std::uint64_t after_seq, std::uint64_t up_to_seq, std::size_t max_count,
                           std::vector<stored_event_ptr>& out) const override;
  log_bounds bounds() const override;
  void set_listener(append_listener listener) override;
  counters stats() const override;
  // Stores what is queued (completing it), refuses later appends, check-points the write-ahead
  // log and marks a clean shutdown, so the next start needs no recovery.
  void close() override;

 private:
  struct append_request {
    std::vector<events::pending_event> batch;
    std::int64_t now_ms = 0;
    append_completion done;
  };
  struct database;  // the SQLite connections and statements

  sqlite_log(sqlite_log_options options, std::string epoch, std::unique_ptr<database> db);
  void run_writer();
  void commit_group(std::vector<append_request>& group);
  // Moves the retention bounds at `now_ms` and deletes a bounded chunk; true when more remains.
  bool apply_retention(std::int64_t now_ms);
  void complete_all(std::vector<append_request>& group, const core::error& why);
  // From disk, seq in [first, last], at most max_count; what it read is appended to `out`.
  void read_disk(std::uint64_t first, std::uint64_t last, std::size_t max_count,
                 std::vector<stored_event_ptr>& out) const;
  void trim_window_locked();
  // `stored` merged in batch order with the events a retry had stored before (earlier[i] != 0).
  std::vector<stored_event_ptr> with_earlier(std::vector<stored_event_ptr> stored,
                                             const std::vector<std::uint64_t>& earlier) const;
  void probe_if_unavailable();

  const sqlite_log_options options_;
  const std::string epoch_;
  std::unique_ptr<database> db_;

  // The extent and the in-memory window, under mutex_.
  mutable std::mutex mutex_;
  std::deque<stored_event_ptr> window_;  // the newest events, ascending and contiguous, ending at head
  std::uint64_t head_seq_ = 0;    // newest event fanned out
  std::uint64_t oldest_seq_ = 1;  // oldest retained (head_seq_ + 1 when none)
  std::optional<std::string> unavailable_;
  std::shared_ptr<const append_listener> listener_;

  // The writer's queue, under queue_mutex_.
  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::vector<append_request> queue_;
  std::optional<std::int64_t> trim_at_ms_;
  bool stopping_ = false;

  // The writer thread's own state.
  std::uint64_t stored_seq_ = 0;     // newest seq committed to disk
  std::uint64_t disk_oldest_ = 1;    // no row below this is left on disk
  std::int64_t last_time_ms_ = 0;
  idempotency_index idempotency_;  // the writer's (and open()'s)
  std::thread writer_;
  // For stats(): the writer's, and the readers' (events whose checksum failed or whose page
  // could not be read).
  std::atomic<std::uint64_t> commits_{0}, appends_{0}, commit_ns_{0};
  mutable std::atomic<std::uint64_t> damaged_events_{0};
};

}  // namespace globemeet::server::log
