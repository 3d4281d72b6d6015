// The live WebSocket sessions, so that shutdown can tell each of them to go, one server-wide
// timer can give each its periodic check (a timer per connection would cost memory and a
// timerfd update per expiry with 10,000 connections), and the readiness poller can find the
// session of a ready socket. It owns them: a plain-TCP session has no pending operation that
// would keep it alive; each removes itself when it is done. Thread-safe.
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
  // Its socket became ready (an epoll mask, see readiness_poller); called from any thread.
  virtual void socket_ready(std::uint32_t events) = 0;

 protected:
  ~registered_session() = default;
};

class session_registry {
 public:
  void add(std::uint64_t id, std::shared_ptr<registered_session> session) {
    std::lock_guard lock(mutex_);
    sessions_[id] = std::move(session);
  }
  void remove(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    sessions_.erase(id);
  }
  std::shared_ptr<registered_session> find(std::uint64_t id) const {
    std::lock_guard lock(mutex_);
    auto found = sessions_.find(id);
    return found == sessions_.end() ? nullptr : found->second;
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return sessions_.size();
  }
  std::vector<std::shared_ptr<registered_session>> snapshot() const {
    std::lock_guard lock(mutex_);
    std::vector<std::shared_ptr<registered_session>> out;
    out.reserve(sessions_.size());
    for (const auto& [id, session] : sessions_) out.push_back(session);
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::shared_ptr<registered_session>> sessions_;
};

}  // namespace globemeet::server::net
