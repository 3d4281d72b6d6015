// The live WebSocket sessions, so that shutdown can tell each of them to go. Thread-safe.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace globemeet::server::net {

class drainable {
 public:
  // Sends `closing` and a 1001 close; called once, from any thread.
  virtual void begin_shutdown() = 0;

 protected:
  ~drainable() = default;
};

class session_registry {
 public:
  void add(std::uint64_t id, std::weak_ptr<drainable> session) {
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
  std::vector<std::shared_ptr<drainable>> snapshot() const {
    std::lock_guard lock(mutex_);
    std::vector<std::shared_ptr<drainable>> out;
    for (const auto& [id, weak] : sessions_)
      if (auto s = weak.lock()) out.push_back(std::move(s));
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::weak_ptr<drainable>> sessions_;
};

}  // namespace globemeet::server::net
