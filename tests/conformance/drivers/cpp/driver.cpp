// The conformance driver for GlobeMeet::client (tests/conformance/README.md): it turns commands
// read from stdin into Client calls and the Client's callbacks into observations on stdout, one
// JSON object per line, in the order the callbacks run. It decides nothing itself.
#include <boost/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "globemeet/client.hpp"

namespace json = boost::json;

namespace {

std::mutex out_mutex;
void out(const json::object& obs) {
  std::lock_guard lock(out_mutex);
  std::cout << json::serialize(obs) << '\n' << std::flush;
}

std::string str(const json::object& o, std::string_view key, std::string fallback = {}) {
  if (auto* v = o.if_contains(key); v && v->is_string()) return std::string(v->as_string());
  return fallback;
}
bool flag(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_bool() && v->as_bool();
}
std::optional<std::int64_t> num(const json::object& o, std::string_view key) {
  if (auto* v = o.if_contains(key); v && v->is_number()) return v->to_number<std::int64_t>();
  return std::nullopt;
}

class Driver {
 public:
  void handle(const json::object& cmd) {
    const std::string name = str(cmd, "cmd");
    if (name == "connect") return connect(cmd);
    if (name == "subscribe") return subscribe(str(cmd, "sub"), str(cmd, "pattern"), flag(cmd, "snapshot"));
    if (name == "unsubscribe") return unsubscribe(str(cmd, "sub"));
    if (name == "token") return answer(true, str(cmd, "token"));
    if (name == "token_error") return answer(false, str(cmd, "message", "refused by the harness"));
    if (name == "last_event_id") {
      json::object o{{"obs", "last_event_id"}, {"id", nullptr}};
      if (client_) {
        if (auto id = client_->last_event_id()) o["id"] = *id;
      }
      return out(o);
    }
    if (name == "latency") {
      if (!client_) return out({{"obs", "driver_error"}, {"message", "latency before connect"}});
      const auto l = client_->latency();
      return out({{"obs", "latency"}, {"count", l.count}, {"p50_ms", l.p50_ms}, {"p99_ms", l.p99_ms},
                  {"clock_offset_ms", l.clock_offset_ms}});
    }
    if (name == "close") return close();
    out({{"obs", "driver_error"}, {"message", "unknown command " + name}});
  }

  // Before exit: a provider call still waiting for the harness fails, then the client stops.
  void shutdown() {
    give_up_tokens();
    if (client_) client_->stop();
    std::lock_guard lock(subs_mutex_);
    subs_.clear();
  }

 private:
  struct Sub {
    std::string pattern;
    globemeet::Subscription subscription;
    bool snapshot = false;  // asked for the current state
    bool ended = false;     // unsubscribed by the harness, or reported failed/revoked
  };

  void connect(const json::object& cmd) {
    if (client_) return out({{"obs", "driver_error"}, {"message", "connect twice"}});
    globemeet::ClientOptions o;
    o.endpoint = str(cmd, "endpoint");
    if (cmd.contains("token")) {
      o.token = str(cmd, "token");
    } else {
      o.token_provider = [this](globemeet::TokenReason reason) -> std::string { return provide_token(reason); };
    }
    if (auto id = str(cmd, "last_event_id"); !id.empty()) o.last_event_id = id;
    json::object options;
    if (auto* v = cmd.if_contains("options"); v && v->is_object()) options = v->as_object();
    using ms = std::chrono::milliseconds;
    if (auto v = num(options, "backoff_base_ms")) o.backoff_min = ms(*v);
    if (auto v = num(options, "backoff_max_ms")) o.backoff_max = ms(*v);
    if (auto v = num(options, "handshake_timeout_ms")) o.handshake_timeout = ms(*v);
    if (auto v = num(options, "refresh_before_ms")) o.refresh_before = ms(*v);
    o.conflate = flag(options, "conflate");
    o.on_state = [](const globemeet::StateChange& c) {
      out({{"obs", "state"}, {"from", globemeet::to_string(c.from)}, {"to", globemeet::to_string(c.to)}, {"code", c.code}});
    };
    o.on_reconnect = [] { out({{"obs", "reconnect"}}); };
    o.on_reset = [](const std::string& reason) { out({{"obs", "reset"}, {"reason", reason}}); };
    o.on_overflow = [](const std::string& last) { out({{"obs", "overflow"}, {"last_id", last}}); };
    o.on_error = [this](const globemeet::Error& e) { on_error(e); };
    o.on_subscribed = [this](const std::string& pattern) {
      std::lock_guard lock(subs_mutex_);
      for (const auto& [name, s] : subs_) {
        if (!s.ended && s.pattern == pattern) out({{"obs", "subscribed"}, {"sub", name}});
      }
    };
    // The library names the pattern: every sub of it that asked for the snapshot is told.
    o.on_snapshot = [this](const std::string& pattern, std::uint64_t count) {
      std::lock_guard lock(subs_mutex_);
      for (const auto& [name, s] : subs_) {
        if (!s.ended && s.snapshot && s.pattern == pattern) out({{"obs", "snapshotted"}, {"sub", name}, {"count", count}});
      }
    };
    try {
      client_ = std::make_unique<globemeet::Client>(std::move(o));
    } catch (const globemeet::ClientError& e) {
      return out({{"obs", "error"}, {"code", e.code()}, {"close_code", 0}, {"message", e.what()}});
    }
    if (auto* v = cmd.if_contains("subscribe"); v && v->is_array()) {
      for (const auto& s : v->as_array()) {
        if (s.is_object()) subscribe(str(s.as_object(), "sub"), str(s.as_object(), "pattern"), flag(s.as_object(), "snapshot"));
      }
    }
    client_->start();
  }

  void subscribe(const std::string& sub, const std::string& pattern, bool snapshot) {
    if (!client_) return out({{"obs", "driver_error"}, {"message", "subscribe before connect"}});
    try {
      // Not under subs_mutex_: the client may run callbacks (on_error) before it returns.
      auto s = client_->subscribe(pattern, [sub](const globemeet::Event& e) {
        json::object o{{"obs", "event"}, {"sub", sub}, {"id", e.id}, {"topic", e.topic}, {"type", e.type},
                       {"snapshot", e.snapshot}, {"delay_ms", nullptr}};
        if (e.delay_ms) o["delay_ms"] = *e.delay_ms;
        out(o);
      }, globemeet::SubscribeOptions{.snapshot = snapshot});
      std::lock_guard lock(subs_mutex_);
      subs_[sub] = Sub{pattern, std::move(s), snapshot};
    } catch (const globemeet::ClientError& e) {
      out({{"obs", "subscribe_error"}, {"sub", sub}, {"code", e.code()}, {"message", e.what()}});
    }
  }

  void unsubscribe(const std::string& sub) {
    globemeet::Subscription s;
    {
      std::lock_guard lock(subs_mutex_);
      auto it = subs_.find(sub);
      if (it == subs_.end()) return;
      it->second.ended = true;
      s = std::move(it->second.subscription);
    }
    s.unsubscribe();
  }

  // The library reports a refused or revoked pattern through on_error without naming it; the
  // subscriptions it dropped are the ones no longer active.
  void on_error(const globemeet::Error& e) {
    const std::string failed = "subscription_failed:";
    const bool is_failed = e.code.rfind(failed, 0) == 0;
    if (is_failed || e.code == "permission_revoked") {
      std::lock_guard lock(subs_mutex_);
      for (auto& [name, s] : subs_) {
        if (s.ended || s.subscription.active()) continue;
        s.ended = true;
        if (is_failed)
          out({{"obs", "subscription_failed"}, {"sub", name}, {"code", e.code.substr(failed.size())}});
        else
          out({{"obs", "revoked"}, {"sub", name}});
      }
      return;
    }
    out({{"obs", "error"}, {"code", e.code}, {"close_code", e.close_code}, {"message", e.message}});
  }

  void close() {
    if (client_) {
      give_up_tokens();  // stop() joins the provider's thread
      client_->stop();
    }
    out({{"obs", "closed"}, {"code", client_ ? client_->final_code() : 1000}});
  }

  // The provider (on the client's helper thread) asks the harness and waits for its answer.
  std::string provide_token(globemeet::TokenReason reason) {
    std::unique_lock lock(token_mutex_);
    if (giving_up_) throw std::runtime_error("the driver is closing");
    out({{"obs", "token_request"}, {"reason", globemeet::to_string(reason)}});
    token_cv_.wait(lock, [this] { return answer_.has_value() || giving_up_; });
    if (!answer_) throw std::runtime_error("the driver is closing");
    auto a = std::move(*answer_);
    answer_.reset();
    if (!a.first) throw std::runtime_error(a.second);
    return a.second;
  }
  void answer(bool ok, std::string value) {
    std::lock_guard lock(token_mutex_);
    answer_ = std::make_pair(ok, std::move(value));
    token_cv_.notify_all();
  }
  void give_up_tokens() {
    std::lock_guard lock(token_mutex_);
    giving_up_ = true;
    token_cv_.notify_all();
  }

  std::unique_ptr<globemeet::Client> client_;
  std::mutex subs_mutex_;
  std::map<std::string, Sub> subs_;
  std::mutex token_mutex_;
  std::condition_variable token_cv_;
  std::optional<std::pair<bool, std::string>> answer_;
  bool giving_up_ = false;
};

}  // namespace

int main() {
  std::ios::sync_with_stdio(false);
  // std::cin is tied to std::cout: every read would flush std::cout from the main thread,
  // outside out_mutex, racing the I/O thread's writes (lines came out twice or were lost).
  std::cin.tie(nullptr);
  Driver driver;
  out({{"obs", "hello"}, {"client", "cpp"}, {"auth", "header"}});
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) {
      out({{"obs", "driver_error"}, {"message", "not a JSON object: " + line}});
      continue;
    }
    if (str(v.as_object(), "cmd") == "exit") break;
    driver.handle(v.as_object());
  }
  driver.shutdown();
  return 0;
}
