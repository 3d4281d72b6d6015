#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "globemeet/core/codec.hpp"
#include "globemeet/server/log/sqlite_log.hpp"
#include "log_fixtures.hpp"

namespace events = globemeet::server::events;
namespace server_log = globemeet::server::log;
namespace fs = std::filesystem;
using globemeet::server::log::open_report;
using globemeet::server::log::sqlite_log;
using globemeet::server::log::sqlite_log_options;
using events::testing::depth_event;
using events::testing::one;

namespace {

constexpr std::int64_t t0 = 1'795'802'531'204;

// A fresh directory per test, removed afterwards.
struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "globemeet-log-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string db() const { return (path / "events.db").string(); }
};

sqlite_log_options options_for(const temp_dir& dir, std::size_t max_events = 1000, std::size_t memory_events = 1000) {
  sqlite_log_options options;
  options.path = dir.db();
  options.retention = {max_events, 3'600'000};
  options.memory_events = memory_events;
  return options;
}

std::unique_ptr<sqlite_log> open_log(sqlite_log_options options, open_report* report = nullptr) {
  auto opened = sqlite_log::open(std::move(options), "6f1c2a9e", report);
  INFO((opened ? std::string() : opened.err().message));
  REQUIRE(opened.ok());
  return std::move(opened).value();
}

std::vector<events::pending_event> batch_of(int n, int first_depth = 0) {
  std::vector<events::pending_event> batch;
  for (int i = 0; i < n; ++i) batch.push_back(depth_event("acme", "support", first_depth + i));
  return batch;
}

std::vector<std::uint64_t> read_seqs(const server_log::event_log& log, std::uint64_t after, std::size_t chunk) {
  std::vector<std::uint64_t> seqs;
  std::vector<server_log::stored_event_ptr> out;
  const std::uint64_t head = log.bounds().head_seq;
  for (;;) {
    out.clear();
    const auto status = log.read(after, head, chunk, out);
    for (const auto& event : out) seqs.push_back(event->seq);
    if (status.copied < chunk) return seqs;
    after = out.back()->seq;
  }
}

}  // namespace

TEST_CASE("appends get consecutive ids, are fanned out after the commit, and survive a reopen", "[sqlite_log]") {
  temp_dir dir;
  std::string epoch;
  std::vector<std::string> frames;
  {
    auto log = open_log(options_for(dir));
    epoch = log->epoch();
    std::vector<std::uint64_t> heard;
    log->set_listener([&](std::span<const server_log::stored_event_ptr> batch) {
      for (const auto& event : batch) heard.push_back(event->seq);
    });
    auto first = log->append_sync(batch_of(3), t0);
    REQUIRE(first.ok());
    CHECK(first->front()->id == epoch + "-1");
    auto second = log->append_sync(batch_of(2, 3), t0 + 1);
    REQUIRE(second.ok());
    CHECK(second->back()->id == epoch + "-5");
    CHECK(heard == std::vector<std::uint64_t>{1, 2, 3, 4, 5});
    CHECK(log->bounds().head_seq == 5);
    std::vector<server_log::stored_event_ptr> all;
    log->read(0, 5, 100, all);
    for (const auto& event : all) frames.emplace_back(event->websocket_frame);
  }
  open_report report;
  auto log = open_log(options_for(dir), &report);
  CHECK(log->epoch() == epoch);  // the epoch is stored with the log: ids go on after a restart
  CHECK_FALSE(report.created);
  CHECK_FALSE(report.unclean);
  CHECK(report.head_seq == 5);
  CHECK(log->bounds().head_seq == 5);
  std::vector<server_log::stored_event_ptr> all;
  log->read(0, 5, 100, all);
  REQUIRE(all.size() == 5);
  for (std::size_t i = 0; i < all.size(); ++i) CHECK(all[i]->websocket_frame == frames[i]);  // the same bytes
  auto next = log->append_sync(batch_of(1), t0 + 2);
  REQUIRE(next.ok());
  CHECK(next->front()->id == epoch + "-6");
}

TEST_CASE("reads older than the memory window come from disk, in order and in bounded chunks", "[sqlite_log]") {
  temp_dir dir;
  auto log = open_log(options_for(dir, 10'000, 100));  // only the newest 100 in memory
  for (int i = 0; i < 10; ++i) REQUIRE(log->append_sync(batch_of(100, i * 100), t0 + i).ok());
  for (std::size_t chunk : {1u, 7u, 256u, 5000u}) {
    INFO(chunk);
    auto seqs = read_seqs(*log, 0, chunk);
    REQUIRE(seqs.size() == 1000);
    for (std::size_t i = 0; i < seqs.size(); ++i) CHECK(seqs[i] == i + 1);
  }
  // A read that starts on disk and runs into the window continues there without a gap.
  std::vector<server_log::stored_event_ptr> out;
  auto status = log->read(850, 1000, 100, out);
  CHECK(status.copied == 100);
  CHECK(out.front()->seq == 851);
  CHECK(out.back()->seq == 950);
  // Every frame read back from disk is strict JSON, and names its id.
  out.clear();
  log->read(0, 5, 5, out);
  for (const auto& event : out) {
    CHECK_FALSE(globemeet::core::codec::check_strict_json(event->frame(), 1 << 20).has_value());
    CHECK(event->frame().find("\"id\":\"6f1c2a9e-" + std::to_string(event->seq) + "\"") != std::string_view::npos);
  }
}

TEST_CASE("retention by count and by age applies on disk and survives a reopen", "[sqlite_log]") {
  temp_dir dir;
  {
    auto log = open_log(options_for(dir, 50, 10));
    for (int i = 0; i < 10; ++i) REQUIRE(log->append_sync(batch_of(10, i * 10), t0 + i).ok());
    CHECK(log->bounds().oldest_seq == 51);
    CHECK(log->bounds().size == 50);
    log->trim(t0 + 10);  // the rows count retention dropped are deleted on the writer thread
    REQUIRE(log->append_sync(batch_of(1), t0 + 11).ok());
    auto seqs = read_seqs(*log, 0, 64);
    REQUIRE(seqs.size() == 50);
    CHECK(seqs.front() == 52);
  }
  auto options = options_for(dir, 50, 10);
  options.retention.max_age_ms = 1000;
  {
    auto log = open_log(options);
    CHECK(log->bounds().oldest_seq == 52);
    CHECK(log->bounds().head_seq == 101);
    log->trim(t0 + 100'000);  // everything is older than a second by then
    for (int i = 0; i < 100 && log->bounds().size != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(log->bounds().size == 0);
    CHECK(log->bounds().oldest_seq == 102);
  }
  auto log = open_log(options);
  CHECK(log->bounds().head_seq == 101);  // the head is kept though no event is
  CHECK(log->bounds().size == 0);
  auto next = log->append_sync(batch_of(1), t0 + 200'000);
  REQUIRE(next.ok());
  CHECK(next->front()->seq == 102);
}

TEST_CASE("appends from many threads share commits and keep one order", "[sqlite_log]") {
  temp_dir dir;
  auto log = open_log(options_for(dir, 100'000, 100'000));
  std::mutex heard_mutex;
  std::vector<std::uint64_t> heard;
  log->set_listener([&](std::span<const server_log::stored_event_ptr> batch) {
    const std::lock_guard lock(heard_mutex);
    for (const auto& event : batch) heard.push_back(event->seq);
  });
  std::vector<std::thread> publishers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t)
    publishers.emplace_back([&] {
      for (int i = 0; i < 50; ++i)
        if (!log->append_sync(batch_of(10), t0).ok()) ++failures;
    });
  for (auto& t : publishers) t.join();
  CHECK(failures == 0);
  REQUIRE(heard.size() == 4000);
  for (std::size_t i = 0; i < heard.size(); ++i) CHECK(heard[i] == i + 1);
  // Group commit: appends that queued during a commit (its fsync) shared the next one.
  const auto stats = log->stats();
  CHECK(stats.appends == 400);
  CHECK(stats.commits < stats.appends);
  CHECK(stats.commit_ns > 0);
}

TEST_CASE("a file that is no database is refused with its name", "[sqlite_log]") {
  temp_dir dir;
  std::ofstream(dir.db()) << std::string(8192, 'x');
  auto opened = sqlite_log::open(options_for(dir), "6f1c2a9e");
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.err().message.find(dir.db()) != std::string::npos);
}

TEST_CASE("a log closed without its clean-shutdown mark is checked and recovered", "[sqlite_log]") {
  temp_dir dir;
  {
    auto log = open_log(options_for(dir));
    REQUIRE(log->append_sync(batch_of(5), t0).ok());
  }
  // As if killed: the clean mark is gone.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(dir.db().c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "UPDATE meta SET value = '0' WHERE key = 'clean_shutdown'", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  open_report report;
  auto log = open_log(options_for(dir), &report);
  CHECK(report.unclean);
  CHECK(report.head_seq == 5);
}

TEST_CASE("a write that fails refuses the batch, reuses nothing, and the log says why until writes work again", "[sqlite_log]") {
  temp_dir dir;
  auto log = open_log(options_for(dir));
  REQUIRE(log->append_sync(batch_of(2), t0).ok());
  // A read-only database file (as root, chmod does not stop writes; the query_only pragma would
  // need the writer's connection): make the disk refuse through a second writer's lock instead.
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(dir.db().c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);
  auto refused = log->append_sync(batch_of(1), t0 + 1);  // waits out the 1 s busy timeout
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().code == "log_unavailable");
  CHECK(log->unavailable_reason().has_value());
  CHECK(log->bounds().head_seq == 2);
  REQUIRE(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);
  auto accepted = log->append_sync(batch_of(1), t0 + 2);
  REQUIRE(accepted.ok());
  CHECK(accepted->front()->seq == 3);  // the refused batch's seq was never handed out
  CHECK_FALSE(log->unavailable_reason().has_value());
}

TEST_CASE("a row whose bytes changed on disk is never served, and is counted", "[sqlite_log]") {
  temp_dir dir;
  {
    auto log = open_log(options_for(dir, 1000, 1));
    for (int i = 1; i <= 3; ++i) REQUIRE(log->append_sync(batch_of(1, i), t0).ok());  // one row each
  }
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(dir.db().c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "UPDATE events SET frames = replace(frames, '\"depth\":2', '\"depth\":7') WHERE first_seq = 2",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_changes(db) == 1);
  sqlite3_close(db);
  auto log = open_log(options_for(dir, 1000, 1));
  CHECK(read_seqs(*log, 0, 10) == std::vector<std::uint64_t>{1, 3});
  CHECK(log->stats().damaged_events == 1);
}

TEST_CASE("a commit of many events is stored as rows of at most 256 and read back whole from any position", "[sqlite_log]") {
  temp_dir dir;
  auto log = open_log(options_for(dir, 10'000, 1));
  REQUIRE(log->append_sync(batch_of(1000), t0).ok());
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(dir.db().c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* count = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT count(*), max(last_seq - first_seq + 1) FROM events", -1, &count, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(count) == SQLITE_ROW);
  CHECK(sqlite3_column_int(count, 0) == 4);
  CHECK(sqlite3_column_int(count, 1) == 256);
  sqlite3_finalize(count);
  sqlite3_close(db);
  for (std::uint64_t after : {0u, 1u, 255u, 256u, 257u, 700u, 998u}) {
    INFO(after);
    auto seqs = read_seqs(*log, after, 100);
    REQUIRE(seqs.size() == 1000 - after);
    CHECK(seqs.front() == after + 1);
    CHECK(seqs.back() == 1000);
  }
}

TEST_CASE("after a crash, complete commits in the write-ahead file are kept and a torn tail is counted", "[sqlite_log]") {
  temp_dir dir, intact, torn;
  {
    auto log = open_log(options_for(dir));
    for (int i = 0; i < 4; ++i) REQUIRE(log->append_sync(batch_of(50), t0).ok());
    // What a crash now would leave: the database file and its write-ahead file, as they are.
    for (const auto* copy : {&intact, &torn}) {
      fs::copy_file(dir.db(), copy->db());
      fs::copy_file(dir.db() + "-wal", copy->db() + "-wal");
    }
  }
  const auto wal_size = fs::file_size(torn.db() + "-wal");
  fs::resize_file(torn.db() + "-wal", wal_size - 100);  // the last commit's last frame torn

  open_report report;
  open_log(options_for(intact), &report);
  CHECK(report.unclean);
  CHECK(report.wal_bytes_dropped == 0);
  CHECK(report.head_seq == 200);

  auto log = open_log(options_for(torn), &report);
  CHECK(report.unclean);
  CHECK(report.wal_bytes_dropped > 0);
  CHECK(report.wal_bytes_dropped < wal_size / 2);
  CHECK(report.head_seq == 150);  // the torn commit was never acknowledged; the three before it are whole
  CHECK(read_seqs(*log, 0, 1000).size() == 150);
}
