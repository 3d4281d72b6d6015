#include "globemeet/server/log/sqlite_log.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <limits>
#include <unordered_map>

#include "event_rows.hpp"
#include "window_read.hpp"
#include "globemeet/core/event_id.hpp"

namespace globemeet::server::log {
namespace {

namespace fs = std::filesystem;

// Bump when the schema changes; a newer file is refused rather than misread.
constexpr int schema_version = 1;
// Events deleted per retention transaction, so a large trim never holds up commits for long.
constexpr std::uint64_t delete_chunk_events = 20'000;

struct db_closer {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct stmt_finalizer {
  void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};
using db_handle = std::unique_ptr<sqlite3, db_closer>;
using stmt_handle = std::unique_ptr<sqlite3_stmt, stmt_finalizer>;

std::string message_of(sqlite3* db) { return db ? sqlite3_errmsg(db) : "out of memory"; }

// One statement's reset and bindings cleared when it goes out of scope.
struct stmt_use {
  sqlite3_stmt* stmt;
  ~stmt_use() {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  }
};

bool exec(sqlite3* db, const char* sql, std::string& error) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) == SQLITE_OK) return true;
  error = message ? message : message_of(db);
  sqlite3_free(message);
  return false;
}

stmt_handle prepare(sqlite3* db, const char* sql, std::string& error) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
    error = message_of(db);
    return nullptr;
  }
  return stmt_handle(stmt);
}

std::string_view column_text(sqlite3_stmt* stmt, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  return text ? std::string_view(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, column))) : std::string_view{};
}

std::string_view column_blob(sqlite3_stmt* stmt, int column) {
  const auto* bytes = static_cast<const char*>(sqlite3_column_blob(stmt, column));
  return bytes ? std::string_view(bytes, static_cast<std::size_t>(sqlite3_column_bytes(stmt, column))) : std::string_view{};
}

// Columns 0-3 of a statement selecting first_seq, event_index, frames, crc.
rows::row_view row_of(sqlite3_stmt* stmt) {
  return {static_cast<std::uint64_t>(sqlite3_column_int64(stmt, 0)), column_blob(stmt, 1), column_text(stmt, 2),
          sqlite3_column_int64(stmt, 3)};
}

std::optional<std::string> meta_value(sqlite3* db, const char* key, std::string& error) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1, &raw, nullptr) != SQLITE_OK) {
    error = message_of(db);
    return std::nullopt;
  }
  stmt_handle stmt(raw);
  sqlite3_bind_text(raw, 1, key, -1, SQLITE_STATIC);
  const int rc = sqlite3_step(raw);
  if (rc == SQLITE_ROW) return std::string(column_text(raw, 0));
  if (rc != SQLITE_DONE) error = message_of(db);
  return std::nullopt;
}

bool set_meta(sqlite3* db, const char* key, const std::string& value, std::string& error) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                         -1, &raw, nullptr) != SQLITE_OK) {
    error = message_of(db);
    return false;
  }
  stmt_handle stmt(raw);
  sqlite3_bind_text(raw, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text(raw, 2, value.c_str(), static_cast<int>(value.size()), SQLITE_STATIC);
  if (sqlite3_step(raw) != SQLITE_DONE) {
    error = message_of(db);
    return false;
  }
  return true;
}

std::optional<std::uint64_t> single_u64(sqlite3* db, const char* sql, std::string& error) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) {
    error = message_of(db);
    return std::nullopt;
  }
  stmt_handle stmt(raw);
  const int rc = sqlite3_step(raw);
  if (rc == SQLITE_ROW && sqlite3_column_type(raw, 0) != SQLITE_NULL)
    return static_cast<std::uint64_t>(sqlite3_column_int64(raw, 0));
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) error = message_of(db);
  return std::nullopt;
}

std::uint64_t parse_u64(const std::string& text) {
  std::uint64_t value = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9') return 0;
    value = value * 10 + static_cast<std::uint64_t>(ch - '0');
  }
  return value;
}

}  // namespace

struct sqlite_log::database {
  db_handle writer;
  stmt_handle insert;       // one row of event_rows.hpp
  stmt_handle set_head;     // meta head_seq
  stmt_handle first_young;  // the first row holding seq >= ?1 whose last event is stamped at or after ?2
  stmt_handle delete_below; // rows that start below ?1 and end below ?2
  stmt_handle remember_id;  // an idempotency id and its seq
  stmt_handle forget_ids;   // idempotency ids older than ?1
  stmt_handle begin, commit, rollback;

  // Replays read through their own connection: under WAL it reads the last commit while the
  // writer goes on. Used by one reader at a time.
  mutable std::mutex read_mutex;
  db_handle reader;
  stmt_handle range;  // the rows holding seqs in [?1, ?2], ascending (?3: the lowest first_seq such a row can have)
};

core::result<std::unique_ptr<sqlite_log>> sqlite_log::open(sqlite_log_options options, std::string new_epoch,
                                                           open_report* report) {
  const std::string& path = options.path;
  auto fail = [&](const std::string& what) {
    return core::error{std::string(log_unavailable_code), "event log " + path + ": " + what};
  };
  if (!is_valid_log_epoch(new_epoch)) return fail("invalid epoch '" + new_epoch + "'");
  if (options.retention.max_events < 1 || options.retention.max_age_ms < 1) return fail("invalid retention");

  open_report found;
  std::error_code ec;
  found.created = !fs::exists(path, ec);
  // A write-ahead file left beside the database means the last run did not check-point at a
  // clean close; its size tells how much of it the recovery below keeps.
  const std::string wal_path = path + "-wal";
  const std::uint64_t wal_bytes = fs::exists(wal_path, ec) ? fs::file_size(wal_path, ec) : 0;

  // Events are tenants' data: the file (and the -wal and -shm files SQLite derives from it)
  // is the server's alone.
  if (found.created) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return fail("cannot create: " + std::string(std::strerror(errno)));
    ::close(fd);
  }
  auto db = std::make_unique<database>();
  std::string error;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  db->writer.reset(raw);
  if (rc != SQLITE_OK) return fail("cannot open: " + message_of(raw));
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 1000);

  // journal_mode is the first read of the file: a file that is no database fails here.
  if (!exec(raw, "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL", error)) return fail("cannot read it: " + error);
  if (!exec(raw, options.fsync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", error))
    return fail(error);
  if (!exec(raw,
            "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
            "CREATE TABLE IF NOT EXISTS events(first_seq INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL,"
            " last_time_ms INTEGER NOT NULL, event_index BLOB NOT NULL, frames TEXT NOT NULL, crc INTEGER NOT NULL);"
            // Added without a schema version bump: older servers never read it.
            "CREATE TABLE IF NOT EXISTS idempotency(id TEXT PRIMARY KEY, seq INTEGER NOT NULL, time_ms INTEGER NOT NULL) WITHOUT ROWID",
            error))
    return fail("cannot read or create its tables: " + error);

  auto version = meta_value(raw, "schema_version", error);
  if (!error.empty()) return fail(error);
  if (version && parse_u64(*version) != schema_version)
    return fail("schema version " + *version + " is not " + std::to_string(schema_version) +
                " (written by another version of globemeet-server)");
  auto clean = meta_value(raw, "clean_shutdown", error);
  // A clean close check-points and truncates the write-ahead file; one with content means a
  // crash, even when the meta rows themselves were lost with a damaged write-ahead file.
  found.unclean = !found.created && ((version && clean != "1") || wal_bytes > 0);

  // After a crash: what the WAL held past its last complete commit was never acknowledged;
  // SQLite's recovery drops it. Check-pointing now says how much was kept, and the structure
  // check refuses a damaged file instead of serving from it.
  if (found.unclean || wal_bytes > 0) {
    // A passive check-point counts the frames recovery kept (a truncating one reports 0 once
    // it has emptied the file); the truncating one then starts the write-ahead log afresh.
    int wal_frames = 0, checkpointed = 0;
    if (sqlite3_wal_checkpoint_v2(raw, nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_frames, &checkpointed) != SQLITE_OK ||
        sqlite3_wal_checkpoint_v2(raw, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr) != SQLITE_OK)
      return fail("cannot recover its write-ahead log: " + message_of(raw));
    auto page_size = single_u64(raw, "PRAGMA page_size", error);
    const std::uint64_t kept = wal_frames > 0 ? 32 + static_cast<std::uint64_t>(wal_frames) * (24 + page_size.value_or(4096)) : 0;
    if (wal_bytes > kept) found.wal_bytes_dropped = wal_bytes - kept;
  }
  if (found.unclean) {
    sqlite3_stmt* check = nullptr;
    if (sqlite3_prepare_v2(raw, "PRAGMA quick_check", -1, &check, nullptr) != SQLITE_OK)
      return fail("is damaged: " + message_of(raw));
    stmt_handle guard(check);
    // quick_check answers "ok", or a row per problem (the first says which database).
    std::string verdict;
    int rc_check = SQLITE_ROW;
    for (int rows = 0; rows < 4 && (rc_check = sqlite3_step(check)) == SQLITE_ROW; ++rows) {
      const std::string_view line = column_text(check, 0);
      if (line.starts_with("***")) continue;
      verdict += (verdict.empty() ? "" : "; ") + std::string(line);
    }
    if (rc_check != SQLITE_ROW && rc_check != SQLITE_DONE) verdict = message_of(raw);
    if (verdict != "ok")
      return fail("is damaged (" + verdict + "); restore a backup, or salvage what is readable with: sqlite3 " + path +
                  " .recover | sqlite3 NEW.db");
  }

  auto epoch = meta_value(raw, "epoch", error);
  if (!error.empty()) return fail(error);
  if (!epoch) {
    if (!exec(raw, "BEGIN IMMEDIATE", error) || !set_meta(raw, "epoch", new_epoch, error) ||
        !set_meta(raw, "schema_version", std::to_string(schema_version), error) ||
        !set_meta(raw, "head_seq", "0", error) || !exec(raw, "COMMIT", error))
      return fail("cannot initialise: " + error);
    epoch = new_epoch;
  } else if (!is_valid_log_epoch(*epoch)) {
    return fail("its epoch '" + *epoch + "' is not 8 to 16 lowercase hex digits");
  }

  auto stored_head = meta_value(raw, "head_seq", error);
  auto max_seq = single_u64(raw, "SELECT last_seq FROM events ORDER BY first_seq DESC LIMIT 1", error);
  auto min_seq = single_u64(raw, "SELECT min(first_seq) FROM events", error);
  if (!error.empty()) return fail("cannot read: " + error);
  const std::uint64_t head = std::max(stored_head ? parse_u64(*stored_head) : 0, max_seq.value_or(0));
  if (!set_meta(raw, "clean_shutdown", "0", error)) return fail("cannot write: " + error);

  // Prepared once: the writer's statements, and the reader's connection.
  db->insert = prepare(raw, "INSERT INTO events(first_seq, last_seq, last_time_ms, event_index, frames, crc) VALUES(?, ?, ?, ?, ?, ?)",
                       error);
  db->set_head = prepare(raw, "UPDATE meta SET value = ? WHERE key = 'head_seq'", error);
  db->first_young = prepare(raw, "SELECT first_seq, event_index, frames, crc FROM events"
                                 " WHERE last_seq >= ? AND last_time_ms >= ? ORDER BY first_seq LIMIT 1", error);
  db->delete_below = prepare(raw, "DELETE FROM events WHERE first_seq < ? AND last_seq < ?", error);
  db->remember_id = prepare(raw, "INSERT OR IGNORE INTO idempotency(id, seq, time_ms) VALUES(?, ?, ?)", error);
  db->forget_ids = prepare(raw, "DELETE FROM idempotency WHERE time_ms < ?", error);
  db->begin = prepare(raw, "BEGIN IMMEDIATE", error);
  db->commit = prepare(raw, "COMMIT", error);
  db->rollback = prepare(raw, "ROLLBACK", error);
  if (!error.empty()) return fail(error);

  sqlite3* reader = nullptr;
  const int read_rc = sqlite3_open_v2(path.c_str(), &reader, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  db->reader.reset(reader);
  if (read_rc != SQLITE_OK) return fail("cannot open for reading: " + message_of(reader));
  sqlite3_busy_timeout(reader, 1000);
  db->range = prepare(reader, "SELECT first_seq, event_index, frames, crc, last_seq FROM events"
                              " WHERE first_seq >= ?3 AND first_seq <= ?2 AND last_seq >= ?1 ORDER BY first_seq", error);
  if (!error.empty()) return fail(error);

  std::unique_ptr<sqlite_log> log(new sqlite_log(std::move(options), *epoch, std::move(db)));
  {
    // The idempotency ids still in their window: a publish retried across a restart is stored once.
    sqlite3_stmt* ids = nullptr;
    const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch()).count();
    if (sqlite3_prepare_v2(raw, "SELECT id, seq, time_ms FROM idempotency WHERE time_ms >= ? ORDER BY time_ms", -1, &ids,
                           nullptr) != SQLITE_OK)
      return fail("cannot read: " + message_of(raw));
    stmt_handle guard(ids);
    sqlite3_bind_int64(ids, 1, now_ms - idempotency_window_ms);
    while (sqlite3_step(ids) == SQLITE_ROW)
      log->idempotency_.remember(std::string(column_text(ids, 0)), static_cast<std::uint64_t>(sqlite3_column_int64(ids, 1)),
                                 sqlite3_column_int64(ids, 2));
  }
  log->head_seq_ = log->stored_seq_ = head;
  log->disk_oldest_ = min_seq.value_or(head + 1);
  // Count retention may have moved past rows that were not deleted yet when the last run ended.
  const std::uint64_t max_events = log->options_.retention.max_events;
  log->oldest_seq_ = std::max(log->disk_oldest_, head >= max_events ? head - max_events + 1 : 1);

  // The newest events into memory, for fan-out and replay without the disk.
  const std::size_t keep = std::min(log->options_.memory_events, log->options_.retention.max_events);
  if (head >= log->oldest_seq_ && keep > 0) {
    std::vector<stored_event_ptr> newest;
    const std::uint64_t from = std::max(log->oldest_seq_, head >= keep ? head - keep + 1 : 1);
    log->read_disk(from, head, keep, newest);
    log->window_.assign(newest.begin(), newest.end());
    if (!newest.empty()) log->last_time_ms_ = newest.back()->time_ms;
  }
  found.head_seq = head;
  found.oldest_seq = log->oldest_seq_;
  found.retained = head >= log->oldest_seq_ ? head - log->oldest_seq_ + 1 : 0;
  if (report) *report = found;
  log->writer_ = std::thread([raw_log = log.get()] { raw_log->run_writer(); });
  return log;
}

sqlite_log::sqlite_log(sqlite_log_options options, std::string epoch, std::unique_ptr<database> db)
    : options_(std::move(options)), epoch_(std::move(epoch)), db_(std::move(db)) {}

sqlite_log::~sqlite_log() { close(); }

void sqlite_log::close() {
  {
    const std::lock_guard lock(queue_mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  // Check-pointed and marked clean: the next start needs no recovery and no check.
  std::string ignored;
  if (sqlite3_wal_checkpoint_v2(db_->writer.get(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr) == SQLITE_OK)
    set_meta(db_->writer.get(), "clean_shutdown", "1", ignored);
}

void sqlite_log::append(std::vector<events::pending_event> batch, std::int64_t now_ms, append_completion done) {
  if (batch.empty()) {
    if (done) done(std::vector<stored_event_ptr>{});
    return;
  }
  {
    const std::lock_guard lock(queue_mutex_);
    if (!stopping_) {
      queue_.push_back({std::move(batch), now_ms, std::move(done)});
      queue_cv_.notify_one();
      return;
    }
  }
  if (done) done(core::error{std::string(log_unavailable_code), "the event log is closing"});
}

std::size_t sqlite_log::trim(std::int64_t now_ms) {
  {
    const std::lock_guard lock(queue_mutex_);
    trim_at_ms_ = now_ms;
  }
  queue_cv_.notify_one();
  return 0;
}

std::optional<std::string> sqlite_log::unavailable_reason() const {
  const std::lock_guard lock(mutex_);
  return unavailable_;
}

void sqlite_log::run_writer() {
  std::vector<append_request> group;
  bool retention_pending = false;
  std::int64_t retention_now = 0;
  for (;;) {
    {
      std::unique_lock lock(queue_mutex_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty() || trim_at_ms_ || retention_pending; });
      group.swap(queue_);
      if (trim_at_ms_) {
        retention_now = *trim_at_ms_;
        retention_pending = true;
        trim_at_ms_.reset();
      }
      if (group.empty() && stopping_) return;
    }
    if (!group.empty()) {
      commit_group(group);
      group.clear();
      // Count retention moved the oldest event: delete what it dropped.
      const std::lock_guard lock(mutex_);
      if (disk_oldest_ < oldest_seq_ && !retention_pending) {
        retention_pending = true;
        retention_now = last_time_ms_;
      }
    }
    if (retention_pending) {
      retention_pending = apply_retention(std::max(retention_now, last_time_ms_));
      probe_if_unavailable();
    }
  }
}

void sqlite_log::complete_all(std::vector<append_request>& group, const core::error& why) {
  for (auto& request : group)
    if (request.done) request.done(why);
}

void sqlite_log::commit_group(std::vector<append_request>& group) {
  std::size_t total = 0;
  for (const auto& request : group) total += request.batch.size();
  if (total > core::max_seq - stored_seq_) {
    complete_all(group, {std::string(log_unavailable_code),
                         "the log has no sequence numbers left in epoch " + epoch_ + "; start a new data directory"});
    return;
  }

  // Events of a retried publish stored before (same idempotency id, here or earlier in this
  // group) keep their first seq: earlier[r][i] != 0. Only the others are stored.
  std::vector<std::vector<std::uint64_t>> earlier(group.size());
  std::vector<std::pair<std::string, std::uint64_t>> new_ids;  // remembered once committed
  {
    std::unordered_map<std::string, std::uint64_t> in_group;
    std::uint64_t seq = stored_seq_ + 1;
    for (std::size_t r = 0; r < group.size(); ++r) {
      auto& batch = group[r].batch;
      if (std::none_of(batch.begin(), batch.end(), [](const auto& e) { return !e.idempotency_id.empty(); })) {
        seq += batch.size();
        continue;
      }
      earlier[r].assign(batch.size(), 0);
      std::vector<events::pending_event> fresh;
      for (std::size_t i = 0; i < batch.size(); ++i) {
        const std::string& id = batch[i].idempotency_id;
        if (!id.empty()) {
          std::optional<std::uint64_t> found = idempotency_.find(id, group[r].now_ms);
          if (auto it = in_group.find(id); !found && it != in_group.end()) found = it->second;
          if (found) {
            earlier[r][i] = *found;
            continue;
          }
          in_group.emplace(id, seq);
          new_ids.emplace_back(id, seq);
        }
        fresh.push_back(std::move(batch[i]));
        ++seq;
      }
      batch = std::move(fresh);
    }
    total = seq - (stored_seq_ + 1);
  }
  if (total == 0) {  // every event was stored before
    for (std::size_t r = 0; r < group.size(); ++r)
      if (group[r].done) group[r].done(with_earlier({}, earlier[r]));
    return;
  }

  // Stamp and serialize; each request keeps the times ascending.
  std::vector<stored_event_ptr> records;
  std::vector<std::size_t> ends;  // one past each request's last record
  records.reserve(total);
  ends.reserve(group.size());
  std::int64_t newest_time_ms = last_time_ms_;
  try {
    std::uint64_t seq = stored_seq_ + 1;
    for (auto& request : group) {
      const std::int64_t time_ms = std::max(request.now_ms, last_time_ms_);
      last_time_ms_ = time_ms;
      newest_time_ms = time_ms;
      for (auto& record : build_stored_events(request.batch, epoch_, seq, time_ms)) records.push_back(std::move(record));
      seq += request.batch.size();
      ends.push_back(records.size());
    }
  } catch (const std::exception&) {
    complete_all(group, {std::string(log_unavailable_code), "the event log could not store the batch"});
    return;
  }

  sqlite3* db = db_->writer.get();
  const auto commit_started = std::chrono::steady_clock::now();
  bool ok = sqlite3_step(db_->begin.get()) == SQLITE_DONE;
  sqlite3_reset(db_->begin.get());
  const std::vector<rows::encoded_row> encoded = rows::encode(records);
  for (std::size_t i = 0; ok && i < encoded.size(); ++i) {
    const rows::encoded_row& row = encoded[i];
    sqlite3_stmt* insert = db_->insert.get();
    const stmt_use use{insert};
    sqlite3_bind_int64(insert, 1, static_cast<sqlite3_int64>(row.first_seq));
    sqlite3_bind_int64(insert, 2, static_cast<sqlite3_int64>(row.last_seq));
    sqlite3_bind_int64(insert, 3, row.last_time_ms);
    sqlite3_bind_blob(insert, 4, row.index.data(), static_cast<int>(row.index.size()), SQLITE_STATIC);
    sqlite3_bind_text(insert, 5, row.frames.data(), static_cast<int>(row.frames.size()), SQLITE_STATIC);
    sqlite3_bind_int64(insert, 6, row.crc);
    ok = sqlite3_step(insert) == SQLITE_DONE;
  }
  for (std::size_t i = 0; ok && i < new_ids.size(); ++i) {
    sqlite3_stmt* remember = db_->remember_id.get();
    const stmt_use use{remember};
    sqlite3_bind_text(remember, 1, new_ids[i].first.data(), static_cast<int>(new_ids[i].first.size()), SQLITE_STATIC);
    sqlite3_bind_int64(remember, 2, static_cast<sqlite3_int64>(new_ids[i].second));
    sqlite3_bind_int64(remember, 3, newest_time_ms);
    ok = sqlite3_step(remember) == SQLITE_DONE;
  }
  if (ok) {
    const std::string head_text = std::to_string(records.back()->seq);
    const stmt_use use{db_->set_head.get()};
    sqlite3_bind_text(db_->set_head.get(), 1, head_text.data(), static_cast<int>(head_text.size()), SQLITE_TRANSIENT);
    ok = sqlite3_step(db_->set_head.get()) == SQLITE_DONE;
  }
  if (ok) {
    ok = sqlite3_step(db_->commit.get()) == SQLITE_DONE;
    sqlite3_reset(db_->commit.get());
  }
  if (!ok) {
    // Nothing of the group was stored: its seqs are handed out again by the next commit.
    const std::string why = message_of(db);
    if (sqlite3_get_autocommit(db) == 0) {
      sqlite3_step(db_->rollback.get());
      sqlite3_reset(db_->rollback.get());
    }
    {
      const std::lock_guard lock(mutex_);
      unavailable_ = "cannot write " + options_.path + ": " + why;
    }
    complete_all(group, {std::string(log_unavailable_code),
                         "the event log cannot store events now (" + why + "); retry later"});
    return;
  }
  stored_seq_ = records.back()->seq;
  for (const auto& [id, seq] : new_ids) idempotency_.remember(id, seq, newest_time_ms);
  commits_.fetch_add(1, std::memory_order_relaxed);
  appends_.fetch_add(group.size(), std::memory_order_relaxed);
  commit_ns_.fetch_add(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                      std::chrono::steady_clock::now() - commit_started).count()),
                       std::memory_order_relaxed);

  std::shared_ptr<const append_listener> listener;
  {
    const std::lock_guard lock(mutex_);
    unavailable_.reset();
    window_.insert(window_.end(), records.begin(), records.end());
    trim_window_locked();
    listener = listener_;
  }
  // As memory_log: the head moves only once the listener has the batch (event_log.hpp).
  if (listener && *listener) (*listener)(records);
  {
    const std::lock_guard lock(mutex_);
    head_seq_ = stored_seq_;
    // Count retention at once; age retention and the deletes wait for the next trim().
    if (head_seq_ - oldest_seq_ + 1 > options_.retention.max_events) oldest_seq_ = head_seq_ - options_.retention.max_events + 1;
  }
  std::size_t begin = 0;
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (group[i].done)
      group[i].done(with_earlier(std::vector<stored_event_ptr>(records.begin() + static_cast<std::ptrdiff_t>(begin),
                                                               records.begin() + static_cast<std::ptrdiff_t>(ends[i])),
                                 earlier[i]));
    begin = ends[i];
  }
}

std::vector<stored_event_ptr> sqlite_log::with_earlier(std::vector<stored_event_ptr> stored,
                                                       const std::vector<std::uint64_t>& earlier) const {
  if (earlier.empty()) return stored;
  std::vector<stored_event_ptr> result;
  result.reserve(earlier.size());
  std::size_t next_stored = 0;
  for (std::uint64_t seq : earlier) {
    if (seq == 0) {
      result.push_back(stored[next_stored++]);
      continue;
    }
    std::vector<stored_event_ptr> found;
    read(seq - 1, seq, 1, found);
    if (!found.empty() && found.front()->seq == seq) {
      result.push_back(std::move(found.front()));
    } else {  // retention dropped it since: its id is what the publisher needs
      auto gone = std::make_shared<stored_event>();
      gone->seq = seq;
      gone->id = core::event_id{epoch_, seq}.str();
      result.push_back(std::move(gone));
    }
  }
  return result;
}

void sqlite_log::probe_if_unavailable() {
  {
    const std::lock_guard lock(mutex_);
    if (!unavailable_) return;
  }
  // A small write tells when the disk takes writes again, so /readyz recovers without a publish.
  std::string error;
  sqlite3* db = db_->writer.get();
  if (exec(db, "BEGIN IMMEDIATE", error) && set_meta(db, "clean_shutdown", "0", error) && exec(db, "COMMIT", error)) {
    const std::lock_guard lock(mutex_);
    unavailable_.reset();
    return;
  }
  if (sqlite3_get_autocommit(db) == 0) exec(db, "ROLLBACK", error);
}

void sqlite_log::trim_window_locked() {
  const std::size_t cap = std::min(options_.memory_events, options_.retention.max_events);
  while (window_.size() > cap) window_.pop_front();
  while (!window_.empty() && window_.front()->seq < oldest_seq_) window_.pop_front();
}

bool sqlite_log::apply_retention(std::int64_t now_ms) {
  sqlite3* db = db_->writer.get();
  std::uint64_t oldest = 0;
  {
    const std::lock_guard lock(mutex_);
    oldest = oldest_seq_;
  }
  // Age: times ascend with seq, so the first young event bounds the range; the scan stops there.
  if (now_ms > std::numeric_limits<std::int64_t>::min() + options_.retention.max_age_ms && oldest <= stored_seq_) {
    const std::int64_t cutoff = now_ms - options_.retention.max_age_ms;
    std::optional<std::uint64_t> young;
    {
      const std::lock_guard lock(mutex_);
      if (!window_.empty() && window_.front()->seq == oldest && window_.front()->time_ms >= cutoff) young = oldest;
    }
    if (!young) {
      const stmt_use use{db_->first_young.get()};
      sqlite3_bind_int64(db_->first_young.get(), 1, static_cast<sqlite3_int64>(oldest));
      sqlite3_bind_int64(db_->first_young.get(), 2, cutoff);
      const int rc = sqlite3_step(db_->first_young.get());
      if (rc == SQLITE_ROW) {
        // The row's last event is young enough; its first young one bounds the range. A damaged
        // row keeps its place (it is skipped when read, and counted then).
        const rows::row_view row = row_of(db_->first_young.get());
        const std::uint64_t first = rows::first_at_or_after(row, cutoff);
        young = std::max(oldest, first != 0 ? first : row.first_seq);
      } else if (rc == SQLITE_DONE) {
        young = stored_seq_ + 1;  // every retained event is too old
      }
    }
    if (young && *young > oldest) {
      const std::lock_guard lock(mutex_);
      oldest_seq_ = std::max(oldest_seq_, std::min(*young, head_seq_ + 1));
      oldest = oldest_seq_;
      trim_window_locked();
    }
  }
  {
    const std::lock_guard lock(mutex_);
    oldest = oldest_seq_;
  }
  {
    idempotency_.expire(now_ms);
    const stmt_use use{db_->forget_ids.get()};
    sqlite3_bind_int64(db_->forget_ids.get(), 1, now_ms - idempotency_window_ms);
    sqlite3_step(db_->forget_ids.get());  // a failure only keeps old ids longer
  }
  if (disk_oldest_ >= oldest) return false;
  // Deletes in chunks, one transaction each, so a commit waits for at most one of them.
  // A row that holds `oldest` stays whole: its older events are skipped when read.
  const std::uint64_t below = std::min(oldest, disk_oldest_ + delete_chunk_events);
  const stmt_use use{db_->delete_below.get()};
  sqlite3_bind_int64(db_->delete_below.get(), 1, static_cast<sqlite3_int64>(below));
  sqlite3_bind_int64(db_->delete_below.get(), 2, static_cast<sqlite3_int64>(oldest));
  if (sqlite3_step(db_->delete_below.get()) != SQLITE_DONE) {
    const std::lock_guard lock(mutex_);
    unavailable_ = "cannot write " + options_.path + ": " + message_of(db);
    return false;  // tried again at the next trim()
  }
  disk_oldest_ = below;
  return disk_oldest_ < oldest;
}

void sqlite_log::read_disk(std::uint64_t first, std::uint64_t last, std::size_t max_count,
                           std::vector<stored_event_ptr>& out) const {
  const std::lock_guard lock(db_->read_mutex);
  sqlite3_stmt* range = db_->range.get();
  const stmt_use use{range};
  sqlite3_bind_int64(range, 1, static_cast<sqlite3_int64>(first));
  sqlite3_bind_int64(range, 2, static_cast<sqlite3_int64>(last));
  // A row holding `first` starts at most max_row_events - 1 before it: the primary key bounds the scan.
  sqlite3_bind_int64(range, 3, static_cast<sqlite3_int64>(first > rows::max_row_events ? first - rows::max_row_events : 0));
  const std::size_t before = out.size();
  int rc = SQLITE_ROW;
  while (out.size() - before < max_count && (rc = sqlite3_step(range)) == SQLITE_ROW) {
    const rows::row_view row = row_of(range);
    if (!rows::decode(row, epoch_, first, last, max_count - (out.size() - before), out)) {
      // Never serve bytes a bad disk changed: the row's events are skipped and counted.
      const auto row_last = static_cast<std::uint64_t>(sqlite3_column_int64(range, 4));
      damaged_events_.fetch_add(std::min(row_last, last) - std::max(row.first_seq, first) + 1, std::memory_order_relaxed);
    }
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) damaged_events_.fetch_add(1, std::memory_order_relaxed);  // an unreadable page ends the read
}

// Older than the window: from disk (a damaged row is skipped and counted, never an error).
read_status sqlite_log::read(std::uint64_t after_seq, std::uint64_t up_to_seq, std::size_t max_count,
                             std::vector<stored_event_ptr>& out) const {
  const auto from_disk = [this](std::uint64_t first, std::uint64_t last, std::size_t max,
                                std::vector<stored_event_ptr>& events) {
    read_disk(first, last, max, events);
    return true;
  };
  return read_through_window({mutex_, window_, head_seq_, oldest_seq_}, after_seq, up_to_seq, max_count, out,
                             from_disk);
}

event_log::counters sqlite_log::stats() const {
  return {commits_.load(std::memory_order_relaxed), appends_.load(std::memory_order_relaxed),
          commit_ns_.load(std::memory_order_relaxed), damaged_events_.load(std::memory_order_relaxed)};
}

log_bounds sqlite_log::bounds() const {
  log_bounds result;
  result.epoch = epoch_;
  const std::lock_guard lock(mutex_);
  result.head_seq = head_seq_;
  result.oldest_seq = oldest_seq_;
  result.size = head_seq_ >= oldest_seq_ ? head_seq_ - oldest_seq_ + 1 : 0;
  return result;
}

void sqlite_log::set_listener(append_listener listener) {
  auto shared = listener ? std::make_shared<const append_listener>(std::move(listener)) : nullptr;
  const std::lock_guard lock(mutex_);
  listener_ = std::move(shared);
}

}  // namespace globemeet::server::log
