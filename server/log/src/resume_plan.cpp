#include "globemeet/server/log/resume_plan.hpp"

#include "globemeet/core/event_id.hpp"

namespace globemeet::server::log {
namespace {

// Seq 0 too: `{epoch}-0` names the start of the epoch, so a reset always has a position.
std::string id_text(const std::string& epoch, std::uint64_t seq) { return core::event_id{epoch, seq}.str(); }

}  // namespace

std::string_view resume_plan::reset_reason() const noexcept {
  switch (outcome) {
    case resume_outcome::future_id: return "future_id";
    case resume_outcome::epoch_changed: return "epoch_changed";
    case resume_outcome::retention_exceeded: return "retention_exceeded";
    case resume_outcome::ok:
    case resume_outcome::invalid_event_id: break;
  }
  return {};
}

resume_plan plan_resume(std::string_view from_text, const log_bounds& bounds) {
  resume_plan plan;
  const std::optional<core::event_id> from = core::event_id::parse(from_text);
  if (!from) {
    plan.outcome = resume_outcome::invalid_event_id;
    return plan;
  }
  plan.up_to_seq = bounds.head_seq;
  // Everything before the oldest retained event is gone; `before_oldest` is the last seq a
  // client can hold and still be replayed without a gap. `{epoch}-0` (a client that had
  // received nothing) is such a seq while the epoch's first event is retained.
  const std::uint64_t before_oldest = bounds.oldest_seq - 1;

  if (from->epoch != bounds.epoch) {
    plan.outcome = resume_outcome::epoch_changed;
    plan.after_seq = before_oldest;
    plan.position = id_text(bounds.epoch, before_oldest);
  } else if (from->seq > bounds.head_seq) {
    plan.outcome = resume_outcome::future_id;
    plan.after_seq = bounds.head_seq;
    plan.position = id_text(bounds.epoch, bounds.head_seq);
  } else if (from->seq < before_oldest) {
    plan.outcome = resume_outcome::retention_exceeded;
    plan.after_seq = before_oldest;
    plan.position = id_text(bounds.epoch, before_oldest);
  } else {
    plan.outcome = resume_outcome::ok;
    plan.after_seq = from->seq;
  }
  return plan;
}

}  // namespace globemeet::server::log
