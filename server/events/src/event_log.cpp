#include "globemeet/server/events/event_log.hpp"

namespace globemeet::server::events {

std::optional<core::event_id> event_log::head() const {
  const log_bounds now = bounds();
  if (now.head_seq == 0) return std::nullopt;
  return core::event_id{now.epoch, now.head_seq};
}

resume_plan event_log::plan_resume(std::string_view from_text) const {
  return events::plan_resume(from_text, bounds());
}

}  // namespace globemeet::server::events
