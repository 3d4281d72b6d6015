// The native adapter of core::client_session: it feeds the session its inputs (stamped with the
// system clock and a random number) and performs the actions it returns, in order. Inputs from
// the I/O thread and from user threads go through one mutex; actions are queued and performed
// only on the I/O thread, first in first out, so a callback that subscribes or stops cannot
// reorder what the session asked for.
#include "globemeet/client.hpp"

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <variant>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "endpoint.hpp"
#include "globemeet/core/client_session.hpp"
#include "globemeet/core/event_id.hpp"
#include "tls_context.hpp"
#include "ws_connection.hpp"

namespace globemeet {

namespace asio = boost::asio;
namespace core = globemeet::core;

const char* to_string(State state) noexcept { return core::to_string(static_cast<core::session_state>(state)); }
const char* to_string(TokenReason reason) noexcept { return core::to_string(static_cast<core::token_reason>(reason)); }
static_assert(static_cast<int>(TokenReason::refused) == static_cast<int>(core::token_reason::refused),
              "TokenReason mirrors core::token_reason");

static_assert(static_cast<int>(State::closed) == static_cast<int>(core::session_state::closed),
              "State mirrors core::session_state");

namespace {

constexpr std::size_t timer_kinds = 7;  // core::timer_kind has seven kinds
static_assert(static_cast<std::size_t>(core::timer_kind::resend) + 1 == timer_kinds, "one slot per core::timer_kind");

std::int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

core::session_config session_config_from(const ClientOptions& o) {
  core::session_config c;
  c.endpoint = o.endpoint;
  c.token_in_header = true;
  c.token_provider = static_cast<bool>(o.token_provider);
  c.backoff.min_ms = o.backoff_min.count();
  c.backoff.max_ms = o.backoff_max.count();
  c.handshake_timeout_ms = o.handshake_timeout.count();
  c.refresh_before_ms = o.refresh_before.count();
  c.conflate = o.conflate;
  return c;
}

}  // namespace

struct Subscription::shared_state {
  using handler = std::function<void(const Event&)>;

  explicit shared_state(ClientOptions o)
      : options(std::move(o)), session(session_config_from(options)), rng(std::random_device{}()) {
    auto ep = detail::parse_endpoint(options.endpoint, true);
    if (!ep) throw ClientError("bad_options", "endpoint must be a ws:// or wss:// URL, got '" + options.endpoint + "'");
    where = std::move(*ep);
    if (options.token.empty() && !options.token_provider)
      throw ClientError("bad_options", "a token or a token_provider is required");
    if (where.tls) {
      try {
        tls = detail::make_client_tls_context(options.ca_file);
      } catch (const std::exception& e) {
        throw ClientError("bad_options", e.what());
      }
    }
    // An engaged empty string is "none" too: 0.1 spelled no position that way.
    if (const auto& from = options.last_event_id; from && !from->empty() && !session.set_last_event_id(*from))
      throw ClientError("bad_options", "last_event_id '" + *from + "' is not an event id");
    for (auto& t : timers) t.emplace(ioc);
  }

  ~shared_state() {
    connections.clear();
    for (auto& t : timers) t.reset();
  }

  // ---- inputs ------------------------------------------------------------------------------
  core::tick tick_locked() {
    return core::tick{unix_now_ms(), std::uniform_real_distribution<double>(0.0, 1.0)(rng)};
  }

  // Runs `f(session, tick)` under the lock and queues the actions it produced. From the I/O
  // thread the queue is worked off at once; from elsewhere a pump is posted.
  template <class F>
  auto input(F&& f) {
    using result_type = decltype(f(session, core::tick{}));
    auto run = [&]() -> result_type {
      std::lock_guard lock(mutex);
      if constexpr (std::is_void_v<result_type>) {
        f(session, tick_locked());
        take_actions_locked();
      } else {
        result_type r = f(session, tick_locked());
        take_actions_locked();
        return r;
      }
    };
    if constexpr (std::is_void_v<result_type>) {
      run();
      schedule_pump();
    } else {
      result_type r = run();
      schedule_pump();
      return r;
    }
  }

  void take_actions_locked() {
    for (auto& a : session.take_actions()) pending.push_back(std::move(a));
  }

  bool on_io_thread() const { return io_thread_id == std::this_thread::get_id(); }

  void schedule_pump() {
    if (on_io_thread()) pump();
    else asio::post(ioc, [this] { pump(); });
  }

  // ---- performing actions (I/O thread only) --------------------------------------------------
  void pump() {
    if (pumping) return;  // a callback fed an input: the outer loop performs its actions in order
    pumping = true;
    for (;;) {
      core::action next;
      {
        std::lock_guard lock(mutex);
        if (pending.empty()) break;
        next = std::move(pending.front());
        pending.pop_front();
      }
      std::visit([this](auto& a) { perform(a); }, next);
    }
    pumping = false;
    check_finished();
  }

  void perform(core::open_action& a) {
    detail::connection_request request{a.connection, where, a.subprotocol, a.authorization, a.last_event_id};
    detail::connection_callbacks callbacks{
        [this](std::uint64_t n) { input([n](core::client_session& s, const core::tick& t) { s.opened(t, n); }); },
        [this](std::uint64_t n, std::string text) {
          input([n, &text](core::client_session& s, const core::tick& t) { s.frame(t, n, text); });
        },
        [this](std::uint64_t n, std::uint16_t code, std::string reason) {
          connections.erase(n);
          input([n, code, &reason](core::client_session& s, const core::tick& t) { s.closed(t, n, code, reason); });
        }};
    auto c = detail::make_connection(ioc, tls.get(), std::move(request), std::move(callbacks));
    connections[a.connection] = c;
    c->start();
  }

  void perform(core::send_action& a) {
    if (auto it = connections.find(a.connection); it != connections.end()) it->second->send(std::move(a.text));
  }

  void perform(core::close_action& a) {
    if (auto it = connections.find(a.connection); it != connections.end()) it->second->close(a.code, a.reason);
  }

  void perform(core::arm_timer_action& a) {
    const auto kind = static_cast<std::size_t>(a.timer);
    const std::uint64_t generation = ++timer_generation[kind];
    const auto delay = std::chrono::milliseconds(std::max<std::int64_t>(0, a.at_ms - unix_now_ms()));
    auto& timer = *timers[kind];
    timer.expires_after(delay);
    timer.async_wait([this, kind, generation, which = a.timer](boost::system::error_code ec) {
      // A completion that was already queued when the timer was re-armed or cancelled is stale.
      if (ec || timer_generation[kind] != generation) return;
      input([which](core::client_session& s, const core::tick& t) { s.timer_fired(t, which); });
    });
  }

  void perform(core::cancel_timer_action& a) {
    const auto kind = static_cast<std::size_t>(a.timer);
    ++timer_generation[kind];
    timers[kind]->cancel();
  }

  void perform(core::request_token_action& a) {
    if (!options.token_provider) {
      asio::post(ioc, [this] {
        input([this](core::client_session& s, const core::tick& t) { s.token_obtained(t, options.token); });
      });
      return;
    }
    // The provider may block (an HTTP request): it runs on its own thread. The session never
    // has two requests outstanding, so the previous thread has posted its answer already.
    if (token_thread.joinable()) token_thread.join();
    token_thread = std::thread([this, reason = static_cast<TokenReason>(a.reason)] {
      std::string token, failure;
      try {
        token = options.token_provider(reason);
        if (token.empty()) failure = "the token provider returned an empty token";
      } catch (const std::exception& e) {
        failure = e.what();
      } catch (...) {
        failure = "the token provider failed";
      }
      asio::post(ioc, [this, token = std::move(token), failure = std::move(failure)]() mutable {
        if (failure.empty())
          input([&token](core::client_session& s, const core::tick& t) { s.token_obtained(t, std::move(token)); });
        else
          input([&failure](core::client_session& s, const core::tick& t) { s.token_failed(t, failure); });
      });
    });
  }

  void perform(core::deliver_action& a) {
    Event ev{a.ev.id, a.ev.topic, a.ev.type, a.ev.source, a.ev.subject, a.ev.time, a.ev.tenant, std::move(a.ev.data_json),
             std::move(a.frame), a.snapshot, a.delay_ms};
    for (const std::uint64_t h : a.handles) {
      std::shared_ptr<handler> fn;
      {
        std::lock_guard lock(mutex);
        if (auto it = handlers.find(h); it != handlers.end()) fn = it->second;
      }
      if (fn) guarded("event handler", [&] { (*fn)(ev); });
    }
  }

  void perform(core::state_changed_action& a) {
    if (a.to == core::session_state::closed) {
      std::lock_guard lock(mutex);
      final_code = a.code;
      final_reason = a.reason;
    }
    if (options.on_state) {
      StateChange change{static_cast<State>(a.from), static_cast<State>(a.to), a.code, a.reason};
      guarded("on_state", [&] { options.on_state(change); });
    }
  }

  void perform(core::notice_action& a) {
    switch (a.kind) {
      case core::notice_kind::reconnected:
        if (options.on_reconnect) guarded("on_reconnect", [&] { options.on_reconnect(); });
        break;
      case core::notice_kind::reset:
        if (options.on_reset) guarded("on_reset", [&] { options.on_reset(a.detail); });
        break;
      case core::notice_kind::overflow:
        if (options.on_overflow) guarded("on_overflow", [&] { options.on_overflow(a.detail); });
        break;
      case core::notice_kind::error:
        report_error(Error{a.detail, a.message, a.close_code, a.close_reason});
        break;
      case core::notice_kind::subscription_failed:
      case core::notice_kind::revoked: {
        {
          std::lock_guard lock(mutex);
          handlers.erase(a.handle);
          patterns.erase(a.handle);
        }
        const std::string code =
            a.kind == core::notice_kind::revoked ? std::string("permission_revoked") : "subscription_failed:" + a.detail;
        report_error(Error{code, a.message});
        break;
      }
      case core::notice_kind::token_expiring:
        break;  // the session already asked for a new token
      case core::notice_kind::subscribed:
        if (options.on_subscribed) guarded("on_subscribed", [&] { options.on_subscribed(a.detail); });
        break;
      case core::notice_kind::snapshotted:
        if (options.on_snapshot) {
          std::string pattern;
          {
            std::lock_guard lock(mutex);
            if (auto it = patterns.find(a.handle); it != patterns.end()) pattern = it->second;
          }
          const std::uint64_t count = std::strtoull(a.detail.c_str(), nullptr, 10);
          guarded("on_snapshot", [&] { options.on_snapshot(pattern, count); });
        }
        break;
    }
  }

  void report_error(const Error& e) {
    if (options.on_error) guarded("on_error", [&] { options.on_error(e); });
  }

  // A throwing callback must not unwind through Asio and kill the I/O thread.
  template <class F>
  void guarded(const char* what, F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      if (options.on_error && std::string_view(what) != "on_error") {
        Error err{"callback_failed", std::string(what) + " threw: " + e.what()};
        try { options.on_error(err); } catch (...) {}  // NOLINT(bugprone-empty-catch)
      }
    } catch (...) {
    }
  }

  // Once the session is closed and its last connection has gone, the I/O thread may end.
  void check_finished() {
    std::lock_guard lock(mutex);
    if (finished || session.state() != core::session_state::closed || !connections.empty() || !pending.empty()) return;
    finished = true;
    for (auto& t : timers) t->cancel();
    work.reset();
    finished_cv.notify_all();
  }

  ClientOptions options;
  detail::endpoint where;
  std::shared_ptr<asio::ssl::context> tls;

  // Declared before everything that holds sockets or timers: destroyed last.
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread io_thread;
  std::thread::id io_thread_id;
  std::thread token_thread;
  bool started = false;   // under mutex
  bool joined = false;    // caller threads only, under stop_mutex
  std::mutex stop_mutex;

  mutable std::mutex mutex;  // guards session, pending, handlers, final_*, finished, rng
  core::client_session session;
  std::deque<core::action> pending;
  std::mt19937_64 rng;
  std::map<std::uint64_t, std::shared_ptr<handler>> handlers;
  std::map<std::uint64_t, std::string> patterns;  // of the handlers, for on_snapshot
  std::uint16_t final_code = 0;
  std::string final_reason;
  bool finished = false;
  std::condition_variable finished_cv;

  // I/O thread only.
  bool pumping = false;
  std::map<std::uint64_t, std::shared_ptr<detail::connection>> connections;
  std::array<std::optional<asio::steady_timer>, timer_kinds> timers;
  std::array<std::uint64_t, timer_kinds> timer_generation{};
};

// ---- Subscription ----------------------------------------------------------------------------

Subscription::Subscription(std::weak_ptr<shared_state> owner, std::uint64_t handle, std::string pattern)
    : owner_(std::move(owner)), handle_(handle), pattern_(std::move(pattern)) {}

Subscription::Subscription(Subscription&& other) noexcept
    : owner_(std::move(other.owner_)), handle_(std::exchange(other.handle_, 0)), pattern_(std::move(other.pattern_)) {}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    unsubscribe();
    owner_ = std::move(other.owner_);
    handle_ = std::exchange(other.handle_, 0);
    pattern_ = std::move(other.pattern_);
  }
  return *this;
}

Subscription::~Subscription() { unsubscribe(); }

void Subscription::unsubscribe() {
  const std::uint64_t handle = std::exchange(handle_, 0);
  auto owner = owner_.lock();
  owner_.reset();
  if (handle == 0 || !owner) return;
  owner->input([owner = owner.get(), handle](core::client_session& s, const core::tick& t) {
    owner->handlers.erase(handle);
    owner->patterns.erase(handle);
    s.unsubscribe(t, handle);
  });
}

void Subscription::detach() noexcept {
  handle_ = 0;
  owner_.reset();
}

bool Subscription::active() const noexcept {
  auto owner = owner_.lock();
  if (!owner || handle_ == 0) return false;
  std::lock_guard lock(owner->mutex);
  return owner->handlers.count(handle_) != 0;
}

// ---- Client ----------------------------------------------------------------------------------

Client::Client(ClientOptions options) : state_(std::make_shared<shared_state>(std::move(options))) {}

Client::~Client() { stop(); }

void Client::start() {
  auto& s = *state_;
  {
    std::lock_guard lock(s.mutex);
    if (s.started) return;
    s.started = true;
  }
  s.work.emplace(s.ioc.get_executor());
  std::promise<void> ready;
  auto ready_future = ready.get_future();
  s.io_thread = std::thread([&s, &ready] {
    s.io_thread_id = std::this_thread::get_id();
    ready.set_value();
    s.ioc.run();
  });
  ready_future.wait();  // io_thread_id is set before anyone asks on_io_thread()
  asio::post(s.ioc, [&s] { s.input([](core::client_session& session, const core::tick& t) { session.start(t); }); });
}

void Client::stop(std::chrono::milliseconds grace) {
  auto& s = *state_;
  bool started = false;
  {
    std::lock_guard lock(s.mutex);
    started = s.started;
  }
  if (!started) return;
  s.input([](core::client_session& session, const core::tick& t) { session.stop(t); });
  if (s.on_io_thread()) return;  // cannot join ourselves; the thread winds down on its own

  std::lock_guard stop_lock(s.stop_mutex);
  if (s.joined) return;
  {
    std::unique_lock lock(s.mutex);
    s.finished_cv.wait_for(lock, grace, [&s] { return s.finished; });
  }
  s.ioc.stop();
  if (s.io_thread.joinable()) s.io_thread.join();
  if (s.token_thread.joinable()) s.token_thread.join();
  s.joined = true;
  std::lock_guard lock(s.mutex);
  if (!s.finished) {
    s.finished = true;
    if (s.final_code == 0) s.final_code = 1000;
    s.finished_cv.notify_all();
  }
}

std::uint16_t Client::wait() {
  std::unique_lock lock(state_->mutex);
  state_->finished_cv.wait(lock, [this] { return state_->finished; });
  return state_->final_code;
}

std::optional<std::uint16_t> Client::wait_for(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mutex);
  if (!state_->finished_cv.wait_for(lock, timeout, [this] { return state_->finished; })) return std::nullopt;
  return state_->final_code;
}

Subscription Client::subscribe(std::string_view pattern, std::function<void(const Event&)> handler,
                               SubscribeOptions options) {
  auto fn = std::make_shared<shared_state::handler>(std::move(handler));
  const core::result<std::uint64_t> r =
      state_->input([&](core::client_session& s, const core::tick& t) -> core::result<std::uint64_t> {
        auto handle = s.subscribe(t, pattern, core::subscribe_options{options.snapshot});
        if (handle) {
          state_->handlers[handle.value()] = fn;
          state_->patterns[handle.value()] = std::string(pattern);
        }
        return handle;
      });
  if (!r) throw ClientError(r.err().code, r.err().message);
  return Subscription(state_, r.value(), std::string(pattern));
}

State Client::state() const {
  std::lock_guard lock(state_->mutex);
  return static_cast<State>(state_->session.state());
}

std::uint16_t Client::final_code() const {
  std::lock_guard lock(state_->mutex);
  return state_->final_code;
}

std::string Client::final_reason() const {
  std::lock_guard lock(state_->mutex);
  return state_->final_reason;
}

std::optional<std::string> Client::last_event_id() const {
  std::lock_guard lock(state_->mutex);
  return state_->session.last_event_id();
}

bool Client::set_last_event_id(std::string_view id) {
  std::lock_guard lock(state_->mutex);
  return state_->session.set_last_event_id(id);
}

LatencyStats Client::latency() const {
  std::lock_guard lock(state_->mutex);
  const core::latency_stats l = state_->session.latency();
  return LatencyStats{l.count, l.p50_ms, l.p99_ms, l.clock_offset_ms};
}

}  // namespace globemeet
