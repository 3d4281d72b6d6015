#include "globemeet/server/log/last_value_cache.hpp"

#include <algorithm>
#include <stdexcept>

#include "globemeet/server/wire/frame_writer.hpp"

namespace globemeet::server::log {

last_value_cache::last_value_cache(std::size_t max_topics_per_tenant) : max_topics_(max_topics_per_tenant) {
  if (max_topics_ < 1) throw std::invalid_argument("last-value cache: at least one topic per tenant");
}

void last_value_cache::update(std::span<const stored_event_ptr> events) {
  tenant_entries* entries = nullptr;
  const std::string* tenant = nullptr;
  for (const stored_event_ptr& event : events) {
    if (!tenant || *tenant != event->tenant) {  // a batch mostly holds runs of one tenant
      entries = &tenants_[event->tenant];
      tenant = &event->tenant;
    }
    if (auto found = entries->seq_of_topic.find(event->topic); found != entries->seq_of_topic.end()) {
      if (found->second >= event->seq) continue;
      erase(*entries, entries->by_seq.find(found->second));
    } else if (entries->by_seq.size() >= max_topics_) {
      erase(*entries, entries->by_seq.begin());  // the topic updated least recently
    }
    entries->by_seq.emplace(event->seq, event);
    entries->seq_of_topic.emplace(event->topic, event->seq);  // the view lives as long as the entry
    ++topics_;
    frame_bytes_ += event->websocket_frame.size();
  }
}

void last_value_cache::erase(tenant_entries& entries, std::map<std::uint64_t, stored_event_ptr>::iterator it) {
  entries.seq_of_topic.erase(std::string_view(it->second->topic));
  frame_bytes_ -= it->second->websocket_frame.size();
  --topics_;
  entries.by_seq.erase(it);
}

std::size_t last_value_cache::forget_before(std::uint64_t oldest_seq) {
  std::size_t forgotten = 0;
  for (auto it = tenants_.begin(); it != tenants_.end();) {
    auto& entries = it->second;
    while (!entries.by_seq.empty() && entries.by_seq.begin()->first < oldest_seq) {
      erase(entries, entries.by_seq.begin());
      ++forgotten;
    }
    if (entries.by_seq.empty())
      it = tenants_.erase(it);
    else
      ++it;
  }
  return forgotten;
}

void last_value_cache::collect(std::string_view tenant, const std::function<bool(std::string_view)>& wanted,
                               std::uint64_t oldest_seq, std::uint64_t up_to_seq,
                               std::vector<stored_event_ptr>& out) const {
  auto it = tenants_.find(std::string(tenant));
  if (it == tenants_.end()) return;
  const auto& by_seq = it->second.by_seq;
  for (auto entry = by_seq.lower_bound(oldest_seq); entry != by_seq.end() && entry->first <= up_to_seq; ++entry)
    if (wanted(entry->second->topic)) out.push_back(entry->second);
}

std::size_t last_value_cache::topics(std::string_view tenant) const {
  auto it = tenants_.find(std::string(tenant));
  return it == tenants_.end() ? 0 : it->second.by_seq.size();
}

std::string snapshot_frame(const stored_event& event) {
  static constexpr std::string_view marker = R"(,"snapshot":true)";
  static constexpr std::string_view data = R"(,"data":)";
  const std::string_view json = event.frame();
  // Every member before `data` is a string, in which an unescaped quote cannot occur, so the
  // first `,"data":` is the member itself.
  const std::size_t at = std::min(json.find(data), json.size() - 1);
  std::string spliced;
  spliced.reserve(json.size() + marker.size());
  spliced.append(json.substr(0, at)).append(marker).append(json.substr(at));
  std::string frame;
  wire::append_frame(frame, wire::opcode::text, spliced);
  return frame;
}

}  // namespace globemeet::server::log
