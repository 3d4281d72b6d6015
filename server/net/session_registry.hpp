// The live WebSocket sessions, so that shutdown can tell each of them to go and one server-wide
// timer can give each its periodic check (a timer per connection would cost memory and a
// timerfd update per expiry with 10,000 connections). Thread-safe.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace globemeet::server::net {

class registered_session {
 public:
  // Sends `closing` and a 1001 close; called once, from any thread.
  virtual void begin_shutdown() = 0;
  // The periodic check of the session's deadlines (auth, heartbeat, lag, token expiry); called
  // from any thread, every session_tick_ms(config).
  virtual void tick() = 0;

 protected:
  ~registered_session() = default;
};

class session_registry {
 public:
  void add(std::uint64_t id, std::weak_ptr<registered_session> session) {
    std::lock_guard lock(mutex_);
    sessions_[id] = std::move(session);
  }
  void remove(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    sessions_.erase(id);
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return sessions_.size();
  }
  std::vector<std::shared_ptr<registered_session>> snapshot() const {
    std::lock_guard lock(mutex_);
    std::vector<std::shared_ptr<registered_session>> out;
    out.reserve(sessions_.size());
    for (const auto& [id, weak] : sessions_)
      if (auto s = weak.lock()) out.push_back(std::move(s));
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::weak_ptr<registered_session>> sessions_;
};

}  // namespace globemeet::server::net
