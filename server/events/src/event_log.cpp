#include "globemeet/server/events/event_log.hpp"

#include "globemeet/server/wire/frame_writer.hpp"

namespace globemeet::server::events {

void set_frame(stored_event& event, std::string_view json) {
  const wire::frame_header header = wire::header_for(json.size(), wire::opcode::text);
  event.websocket_frame.clear();
  event.websocket_frame.reserve(header.size() + json.size());
  event.websocket_frame.append(header.view());
  event.websocket_frame.append(json);
  event.header_size = static_cast<std::uint8_t>(header.size());
}

std::optional<core::event_id> event_log::head() const {
  const log_bounds now = bounds();
  if (now.head_seq == 0) return std::nullopt;
  return core::event_id{now.epoch, now.head_seq};
}

resume_plan event_log::plan_resume(std::string_view from_text) const {
  return events::plan_resume(from_text, bounds());
}

}  // namespace globemeet::server::events
