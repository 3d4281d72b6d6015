// Small builders shared by the log and replay tests.
#pragma once
#include <string>
#include <vector>

#include "globemeet/server/events/publish.hpp"

namespace globemeet::server::events::testing {

// A valid queue.depth-changed event of `tenant` for `queue` with the given depth.
inline pending_event depth_event(const std::string& tenant, const std::string& queue, int depth) {
  pending_event event;
  event.tenant = tenant;
  event.type = "queue.depth-changed";
  event.subject = queue;
  event.topic = "queue." + queue + ".depth-changed";
  event.source = "/tenants/" + tenant + "/queues/" + queue;
  event.data_json = R"({"queue_id":")" + queue + R"(","depth":)" + std::to_string(depth) +
                    R"(,"longest_wait_seconds":0})";
  return event;
}

inline std::vector<pending_event> one(pending_event event) {
  std::vector<pending_event> batch;
  batch.push_back(std::move(event));
  return batch;
}

}  // namespace globemeet::server::events::testing
