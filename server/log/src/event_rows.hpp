// How the disk log packs events into rows: one row holds a run of consecutive events (at most
// max_row_events or max_row_bytes), so SQLite's per-row cost (statement, record, B-tree insert)
// is paid once per run instead of once per event; a callgrind profile had it at half the
// writer's instructions with one row per event. A row's `frames` are the events' frame texts
// as JSON lines, so an operator can read the log with the sqlite3 shell; `index` holds each
// event's time, tenant, topic and frame length. A checksum over the first seq and both lets a
// reader refuse a row that a bad disk changed: SQLite checks its pages' structure, not the
// bytes of a value. The checksum is XXH3-64 (Debian's libxxhash): zlib's CRC-32 cost a quarter
// of the log's instructions at 3.8 per byte, XXH3 a small fraction of that.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "globemeet/server/log/event_log.hpp"

namespace globemeet::server::log::rows {

inline constexpr std::size_t max_row_events = 256;
inline constexpr std::size_t max_row_bytes = 256 * 1024;

struct encoded_row {
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
  std::int64_t last_time_ms = 0;
  std::string index;   // per event: time (8 bytes), tenant and topic lengths (2 each), frame length (4), tenant, topic
  std::string frames;  // the frames' JSON texts, each followed by a newline
  std::int64_t crc = 0;
};

// Packs `events` (consecutive seqs, ascending) into rows within the limits above.
std::vector<encoded_row> encode(std::span<const stored_event_ptr> events);

// A stored row as read back.
struct row_view {
  std::uint64_t first_seq = 0;
  std::string_view index;
  std::string_view frames;
  std::int64_t crc = 0;
};

// The row's checksum as stored.
std::int64_t checksum(std::uint64_t first_seq, std::string_view index, std::string_view frames);

// Appends the row's events with seq in [from, to] to `out`, at most `max_count` of them. False,
// appending nothing, when the checksum or the layout is wrong (the row is damaged).
bool decode(const row_view& row, const std::string& epoch, std::uint64_t from, std::uint64_t to, std::size_t max_count,
            std::vector<stored_event_ptr>& out);

// The seq of the row's first event stamped at or after `cutoff_ms`, or 0 when there is none or
// the row is damaged.
std::uint64_t first_at_or_after(const row_view& row, std::int64_t cutoff_ms);

}  // namespace globemeet::server::log::rows
