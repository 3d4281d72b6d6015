#include "globemeet/core/resume.hpp"

namespace globemeet::core {

resume_state::verdict resume_state::accept(std::string_view id) {
  // `{epoch}-0` is a position, never an event: an event carrying it is as broken as "x-1".
  auto parsed = event_id::parse_event(id);
  if (!parsed) return verdict::invalid_id;
  if (last_) {
    // Sequence numbers only order ids of one epoch; across epochs there is no order at all,
    // so an id from another epoch is neither new nor old: the server owes us a `reset`.
    if (parsed->epoch != last_->epoch) return verdict::epoch_changed;
    if (parsed->seq <= last_->seq) return verdict::duplicate;
  }
  last_ = std::move(*parsed);
  return verdict::deliver;
}

void resume_state::reset_to(const std::optional<std::string>& position) {
  // A position that is not an id cannot be compared with anything; forgetting the last id is
  // the only choice that neither drops the events that follow nor rejects their epoch.
  if (position) {
    if (auto parsed = event_id::parse(*position)) {
      last_ = std::move(*parsed);
      return;
    }
  }
  last_.reset();
}

bool resume_state::set_last(std::string_view id) {
  auto parsed = event_id::parse(id);
  if (!parsed) return false;
  last_ = std::move(*parsed);
  return true;
}

std::optional<std::string> resume_state::last() const {
  if (!last_) return std::nullopt;
  return last_->str();
}

}  // namespace globemeet::core
