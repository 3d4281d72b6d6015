#include "event_rows.hpp"

#define XXH_STATIC_LINKING_ONLY  // the hash state on the stack, not the heap
#include <xxhash.h>

#include <cstring>

#include "globemeet/core/event_id.hpp"

namespace globemeet::server::log::rows {
namespace {

constexpr std::size_t fixed_bytes = 8 + 2 + 2 + 4;  // time, tenant and topic lengths, frame length

template <class Int>
void put(std::string& out, Int value) {  // little-endian, as every machine this runs on
  char bytes[sizeof(Int)];
  std::memcpy(bytes, &value, sizeof(Int));
  out.append(bytes, sizeof(Int));
}

template <class Int>
Int get(const char* at) {
  Int value;
  std::memcpy(&value, at, sizeof(Int));
  return value;
}

std::size_t encoded_size(const stored_event& event) {
  return fixed_bytes + event.tenant.size() + event.topic.size() + event.frame().size() + 1;
}

// Walks a row's events; `visit(seq, time, tenant, topic, frame)` returns false to stop early.
// False when the layout does not hold together.
template <class Visit>
bool walk(const row_view& row, Visit&& visit) {
  std::uint64_t seq = row.first_seq;
  std::size_t at = 0, frame_at = 0;
  while (at < row.index.size()) {
    if (row.index.size() - at < fixed_bytes) return false;
    const char* p = row.index.data() + at;
    const auto time_ms = get<std::int64_t>(p);
    const auto tenant_size = get<std::uint16_t>(p + 8);
    const auto topic_size = get<std::uint16_t>(p + 10);
    const auto frame_size = get<std::uint32_t>(p + 12);
    if (row.index.size() - at - fixed_bytes < std::size_t{tenant_size} + topic_size) return false;
    if (row.frames.size() - frame_at < std::size_t{frame_size} + 1 || row.frames[frame_at + frame_size] != '\n') return false;
    const std::string_view tenant(p + fixed_bytes, tenant_size);
    const std::string_view topic(p + fixed_bytes + tenant_size, topic_size);
    const std::string_view frame = row.frames.substr(frame_at, frame_size);
    if (!visit(seq, time_ms, tenant, topic, frame)) return true;
    at += fixed_bytes + tenant_size + topic_size;
    frame_at += std::size_t{frame_size} + 1;
    ++seq;
  }
  return frame_at == row.frames.size();
}

}  // namespace

std::int64_t checksum(std::uint64_t first_seq, std::string_view index, std::string_view frames) {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, &first_seq, sizeof first_seq);
  XXH3_64bits_update(&state, index.data(), index.size());
  XXH3_64bits_update(&state, frames.data(), frames.size());
  return static_cast<std::int64_t>(XXH3_64bits_digest(&state));
}

std::vector<encoded_row> encode(std::span<const stored_event_ptr> events) {
  std::vector<encoded_row> out;
  std::size_t i = 0;
  while (i < events.size()) {
    encoded_row row;
    row.first_seq = events[i]->seq;
    std::size_t bytes = 0, frame_bytes = 0, end = i;
    while (end < events.size() && end - i < max_row_events &&
           (end == i || bytes + encoded_size(*events[end]) <= max_row_bytes)) {
      bytes += encoded_size(*events[end]);
      frame_bytes += events[end]->frame().size() + 1;
      ++end;
    }
    row.index.reserve(bytes - frame_bytes);
    row.frames.reserve(frame_bytes);
    for (; i < end; ++i) {
      const stored_event& event = *events[i];
      const std::string_view frame = event.frame();
      put<std::int64_t>(row.index, event.time_ms);
      put<std::uint16_t>(row.index, static_cast<std::uint16_t>(event.tenant.size()));
      put<std::uint16_t>(row.index, static_cast<std::uint16_t>(event.topic.size()));
      put<std::uint32_t>(row.index, static_cast<std::uint32_t>(frame.size()));
      row.index.append(event.tenant).append(event.topic);
      row.frames.append(frame).push_back('\n');
      row.last_seq = event.seq;
      row.last_time_ms = event.time_ms;
    }
    row.crc = checksum(row.first_seq, row.index, row.frames);
    out.push_back(std::move(row));
  }
  return out;
}

bool decode(const row_view& row, const std::string& epoch, std::uint64_t from, std::uint64_t to, std::size_t max_count,
            std::vector<stored_event_ptr>& out) {
  if (checksum(row.first_seq, row.index, row.frames) != row.crc) return false;
  const std::size_t before = out.size();
  const bool whole = walk(row, [&](std::uint64_t seq, std::int64_t time_ms, std::string_view tenant, std::string_view topic,
                                   std::string_view frame) {
    if (seq > to || out.size() - before >= max_count) return false;
    if (seq < from) return true;
    auto event = std::make_shared<stored_event>();
    event->seq = seq;
    event->id = core::event_id{epoch, seq}.str();
    event->time_ms = time_ms;
    event->tenant = std::string(tenant);
    event->topic = std::string(topic);
    set_frame(*event, frame);
    out.push_back(std::move(event));
    return true;
  });
  if (!whole) out.resize(before);
  return whole;
}

std::uint64_t first_at_or_after(const row_view& row, std::int64_t cutoff_ms) {
  if (checksum(row.first_seq, row.index, row.frames) != row.crc) return 0;
  std::uint64_t found = 0;
  walk(row, [&](std::uint64_t seq, std::int64_t time_ms, std::string_view, std::string_view, std::string_view) {
    if (time_ms < cutoff_ms) return true;
    found = seq;
    return false;
  });
  return found;
}

}  // namespace globemeet::server::log::rows
