#include "outbound_queue.hpp"

#include "globemeet/server/events/catalogue.hpp"

namespace globemeet::server::net {

outbound_frame outbound_frame::of_event(log::stored_event_ptr event, std::int64_t queued_at_us) {
  outbound_frame f;
  f.event = std::move(event);
  f.queued_at_us = queued_at_us;
  return f;
}

outbound_frame outbound_frame::of_bytes(wire::opcode op, std::string_view payload, std::int64_t queued_at_us) {
  std::string frame;
  wire::append_frame(frame, op, payload);
  return of_frame(std::move(frame), queued_at_us);
}

outbound_frame outbound_frame::of_frame(std::string frame, std::int64_t queued_at_us) {
  outbound_frame f;
  f.own = std::make_unique<const std::string>(std::move(frame));
  f.queued_at_us = queued_at_us;
  return f;
}

outbound_queue::push_outcome outbound_queue::push(outbound_frame frame) {
  std::lock_guard lock(mutex_);
  if (closed_) return {push_result::closed, 0, 0};
  pending_bytes_ += frame.wire_size();
  pending_.push_back(std::move(frame));
  return pushed(lock);
}

void outbound_queue::conflate_gauges() {
  std::lock_guard lock(mutex_);
  conflating_ = true;
}

outbound_queue::push_outcome outbound_queue::push_events(std::span<const std::span<const log::stored_event_ptr>> runs,
                                                        std::int64_t queued_at_us, bool live) {
  std::lock_guard lock(mutex_);
  if (closed_) return {push_result::closed, 0, 0};
  std::size_t conflated = 0;
  for (const auto& run : runs) {
    // A run is one topic: whether it is a gauge is asked once.
    if (conflating_ && live && !run.empty() && events::is_gauge_topic(run.front()->topic)) {
      push_outcome counted;
      for (const auto& event : run) push_conflated(event, queued_at_us, counted);
      conflated += counted.conflated;
      continue;
    }
    for (const auto& event : run) {
      pending_bytes_ += event->websocket_frame.size();
      pending_.push_back(outbound_frame::of_event(event, queued_at_us));
    }
  }
  push_outcome out = pushed(lock);
  out.conflated = conflated;
  return out;
}

void outbound_queue::push_conflated(const log::stored_event_ptr& event, std::int64_t queued_at_us,
                                    push_outcome& out) {
  if (auto slot = gauge_slots_.find(event->topic); slot != gauge_slots_.end()) {
    outbound_frame& older = pending_[slot->second];
    gauge_slots_.erase(slot);  // first: its key views the older event's topic
    pending_bytes_ -= older.wire_size();
    older.event.reset();  // now a removed slot
    ++removed_;
    ++out.conflated;
  }
  pending_bytes_ += event->websocket_frame.size();
  pending_.push_back(outbound_frame::of_event(event, queued_at_us));
  gauge_slots_.emplace(event->topic, pending_.size() - 1);
}

const outbound_frame* outbound_queue::oldest_pending() const {
  while (first_live_ < pending_.size() && pending_[first_live_].removed()) ++first_live_;
  return first_live_ < pending_.size() ? &pending_[first_live_] : nullptr;
}

outbound_queue::push_outcome outbound_queue::pushed(std::lock_guard<std::mutex>&) {
  push_outcome out;
  // After conflation: the age of what is still waiting (docs/protocol.md section 7.1).
  const outbound_frame* oldest = oldest_pending();
  out.oldest_queued_at_us = in_flight_oldest_us_ != 0 ? in_flight_oldest_us_ : oldest ? oldest->queued_at_us : 0;
  out.queued_bytes = pending_bytes_ + in_flight_bytes_;
  if (writing_) return out;
  writing_ = true;
  out.result = push_result::start_writer;
  return out;
}

bool outbound_queue::take_batch(std::vector<outbound_frame>& batch) {
  batch.clear();
  std::lock_guard lock(mutex_);
  if (pending_.empty()) {
    writing_ = false;
    return false;
  }
  if (removed_ != 0) std::erase_if(pending_, [](const outbound_frame& f) { return f.removed(); });
  removed_ = 0;
  first_live_ = 0;
  gauge_slots_.clear();  // what is in flight is never conflated
  batch.swap(pending_);
  in_flight_bytes_ = pending_bytes_;
  pending_bytes_ = 0;
  in_flight_oldest_us_ = batch.front().queued_at_us;
  writing_ = true;
  return true;
}

void outbound_queue::batch_written() {
  std::lock_guard lock(mutex_);
  in_flight_bytes_ = 0;
  in_flight_oldest_us_ = 0;
}

void outbound_queue::release_spare_capacity() {
  std::lock_guard lock(mutex_);
  if (pending_.empty()) std::vector<outbound_frame>().swap(pending_);
}

std::int64_t outbound_queue::oldest_age_us(std::int64_t now_us) const {
  std::lock_guard lock(mutex_);
  const outbound_frame* pending = oldest_pending();
  std::int64_t oldest = in_flight_oldest_us_ != 0 ? in_flight_oldest_us_ : pending ? pending->queued_at_us : 0;
  return oldest == 0 ? 0 : now_us - oldest;
}

std::size_t outbound_queue::queued_bytes() const {
  std::lock_guard lock(mutex_);
  return pending_bytes_ + in_flight_bytes_;
}

std::size_t outbound_queue::close_with(std::vector<outbound_frame> final_frames, bool keep_pending,
                                      bool& start_writer) {
  std::lock_guard lock(mutex_);
  start_writer = false;
  if (closed_) return 0;
  closed_ = true;
  std::size_t dropped = 0;
  if (!keep_pending) {
    for (const auto& f : pending_)
      if (f.event) ++dropped;
    pending_.clear();
    pending_bytes_ = 0;
    removed_ = 0;
    first_live_ = 0;
  }
  gauge_slots_.clear();
  conflating_ = false;
  for (auto& f : final_frames) {
    pending_bytes_ += f.wire_size();
    pending_.push_back(std::move(f));
  }
  if (!writing_ && !pending_.empty()) {
    writing_ = true;
    start_writer = true;
  }
  return dropped;
}

bool outbound_queue::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

}  // namespace globemeet::server::net
