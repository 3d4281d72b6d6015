#include "globemeet/server/log/event_log.hpp"

#include <chrono>
#include <future>

#include "globemeet/core/codec.hpp"
#include "globemeet/server/events/time_format.hpp"

#include "globemeet/server/wire/frame_writer.hpp"

namespace globemeet::server::log {

void set_frame(stored_event& event, std::string_view json) {
  const wire::frame_header header = wire::header_for(json.size(), wire::opcode::text);
  event.websocket_frame.clear();
  event.websocket_frame.reserve(header.size() + json.size());
  event.websocket_frame.append(header.view());
  event.websocket_frame.append(json);
  event.header_size = static_cast<std::uint8_t>(header.size());
}

std::vector<stored_event_ptr> build_stored_events(std::vector<events::pending_event>& batch, const std::string& epoch,
                                                 std::uint64_t first_seq, std::int64_t time_ms) {
  const std::string time = events::format_rfc3339_ms(time_ms);
  const std::int64_t framed_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::system_clock::now().time_since_epoch()).count();
  std::vector<stored_event_ptr> records;
  records.reserve(batch.size());
  std::uint64_t seq = first_seq;
  for (events::pending_event& pending : batch) {
    core::event envelope;
    envelope.id = core::event_id{epoch, seq}.str();
    envelope.source = std::move(pending.source);
    envelope.type = std::move(pending.type);
    envelope.subject = std::move(pending.subject);
    envelope.time = time;
    envelope.topic = pending.topic;
    envelope.tenant = pending.tenant;
    envelope.data_json = std::move(pending.data_json);

    auto record = std::make_shared<stored_event>();
    record->seq = seq;
    record->time_ms = time_ms;
    record->framed_us = framed_us;
    set_frame(*record, core::codec::encode_event(envelope));
    record->id = std::move(envelope.id);
    record->tenant = std::move(pending.tenant);
    record->topic = std::move(pending.topic);
    records.push_back(std::move(record));
    ++seq;
  }
  return records;
}

core::event_id event_log::head() const {
  const log_bounds now = bounds();
  return core::event_id{now.epoch, now.head_seq};
}

resume_plan event_log::plan_resume(std::string_view from_text) const {
  return log::plan_resume(from_text, bounds());
}

event_log::append_result event_log::append_sync(std::vector<events::pending_event> batch, std::int64_t now_ms) {
  std::promise<append_result> result;
  auto done = result.get_future();
  append(std::move(batch), now_ms, [&result](append_result r) { result.set_value(std::move(r)); });
  return done.get();
}

}  // namespace globemeet::server::log
