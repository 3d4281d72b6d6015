// The native GlobeMeet Events client (docs/client.md, docs/protocol.md).
//
// A Client owns one I/O thread (Boost.Asio, started by start()) that runs the connection, the
// timers and every callback. The protocol decisions (resume, duplicate suppression, backoff,
// token refresh, heartbeats, which close codes are final) are made by the sans-I/O
// globemeet::core::client_session; this class only performs its actions.
//
// Thread safety: every public member function may be called from any thread, including from
// inside a callback. Callbacks (event handlers, on_state, on_reconnect, ...) run on the I/O
// thread, one at a time, in the order the session produced them; a callback that blocks delays
// the connection (the server drops a reader that lags too long with `overflow`, and the client
// then resumes). The token provider runs on a helper thread, never on the I/O thread.
//
// No Boost, Asio or OpenSSL type appears in this header.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace globemeet {

// One event as received (docs/protocol.md section 3).
struct Event {
  std::string id;         // "{epoch}-{seq}"
  std::string topic;      // "{stream}.{key}.{event}"
  std::string type;       // "{stream}.{event}"
  std::string source;
  std::string subject;
  std::string time;       // RFC 3339 UTC with milliseconds
  std::string tenant;
  std::string data_json;  // the `data` object as compact JSON text
  std::string raw;        // the whole event frame, as the server sent it
  // A snapshot event: the current state of its topic, delivered first to a subscription made
  // with SubscribeOptions::snapshot (docs/protocol.md section 5.3), not a change that just happened.
  bool snapshot = false;
  // How long after the server accepted it the event reached the handler, ms, on the server's
  // clock (estimated from `ready` and the pongs); nullopt when `time` does not parse. For
  // snapshot and replayed events this is their age.
  std::optional<std::int64_t> delay_ms{};
};

struct SubscribeOptions {
  // The current state first: the latest event of every topic the pattern matches (Event::snapshot),
  // then live events with no gap. Asked again on every reconnect, so a `reset` brings it too.
  bool snapshot = false;
};

// Delivery delays of live events (snapshot and replayed ones are left out), ms.
struct LatencyStats {
  std::uint64_t count = 0;           // live events in the window: the last ones, at most 1,000
  std::int64_t p50_ms = 0;           // over them; 0 while count is 0
  std::int64_t p99_ms = 0;
  std::int64_t clock_offset_ms = 0;  // the server's clock minus this one, as estimated; 0 until known
};

enum class State { idle, fetching_token, connecting, authenticating, live, reconnecting, closed };
const char* to_string(State state) noexcept;

struct StateChange {
  State from = State::idle;
  State to = State::idle;
  std::uint16_t code = 0;  // the close code that caused the change, 0 if none
  std::string reason;
};

// An `error` frame from the server, a local protocol violation or a token provider failure;
// last of all, code "closed" when the client stopped for good other than by stop(): a final
// close code (4401 when even a fresh token from the provider is refused, 4403, ...) or a
// provider that gives only expired tokens (4001). on_error sees it before on_state's `closed`.
struct Error {
  std::string code;  // a docs/protocol.md error code, or "token_unavailable", "subscription_failed:<code>", "closed", ...
  std::string message;
  std::uint16_t close_code = 0;  // code "closed": the close code that ended the client (final_code())
  std::string reason{};          // code "closed": the reason that came with it (final_reason())
};

// Thrown by Client's constructor for unusable options and by subscribe() for an invalid pattern.
class ClientError : public std::runtime_error {
 public:
  ClientError(std::string code, const std::string& message) : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

// Why the client asks its token provider (mirrors core::token_reason).
enum class TokenReason {
  connect,    // a connection needs a token and the client holds none it can use
  refresh,    // the current token nears `exp`, or a failed refresh is retried
  expiring,   // the server warned with `expiring`
  expired,    // the server closed with 4001: its token had expired
  refused,    // the server closed with 4401: the token was refused (e.g. a new signing key)
};
const char* to_string(TokenReason reason) noexcept;

// A token provider: any callable returning the JWT, taking the TokenReason or nothing.
class TokenProvider {
 public:
  TokenProvider() = default;
  TokenProvider(std::nullptr_t) {}
  template <class F, std::enable_if_t<std::is_invocable_r_v<std::string, F&, TokenReason>, int> = 0>
  TokenProvider(F f) {
    if constexpr (std::is_constructible_v<bool, F&>)
      if (!f) return;  // an empty std::function or null pointer: no provider
    fn_ = std::move(f);
  }
  template <class F, std::enable_if_t<!std::is_invocable_r_v<std::string, F&, TokenReason> &&
                                          std::is_invocable_r_v<std::string, F&>,
                                      int> = 0>
  TokenProvider(F f) {
    if constexpr (std::is_constructible_v<bool, F&>)
      if (!f) return;
    fn_ = [f = std::move(f)](TokenReason) mutable -> std::string { return f(); };
  }
  explicit operator bool() const noexcept { return static_cast<bool>(fn_); }
  std::string operator()(TokenReason reason) const { return fn_(reason); }

 private:
  std::function<std::string(TokenReason)> fn_;
};

struct ClientOptions {
  std::string endpoint;  // ws://host:port/v1/events or wss://host/v1/events
  // Either a static token or a provider. The provider returns a fresh JWT; it signals failure by
  // throwing (any std::exception; the client retries with backoff). It is called on a helper
  // thread, one call at a time: before a token expires, and once more when the server refuses
  // the current one with 4401 (e.g. it restarted with a new signing key). With a static token,
  // 4401 is final at once. It may take a TokenReason to learn why it is called.
  std::string token;
  TokenProvider token_provider;
  // TLS (wss://): the peer is always verified against OpenSSL's default trust store, and also
  // against this PEM file when given (e.g. a development CA).
  std::string ca_file;
  // Where to resume at the first connection: an event id ("{epoch}-{seq}", resume after it) or
  // "{epoch}-0" (from the first event of that epoch), typically what Client::last_event_id()
  // returned in a previous run; nullopt: no position, events from now on. The same type as
  // last_event_id() so a persisted position goes back unchanged. An empty string also means no
  // position (what 0.1, where this was a std::string, took for none).
  std::optional<std::string> last_event_id;

  // Tuning; defaults follow docs/protocol.md section 9.
  std::chrono::milliseconds backoff_min{500};
  std::chrono::milliseconds backoff_max{30'000};
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds refresh_before{60'000};  // ask for a new token this long before `exp`
  // Let the server conflate gauge events (queue.depth-changed, agent.status-changed) while this
  // client lags: the newest value of each gauge topic instead of every one (section 7.1).
  bool conflate = false;

  // Callbacks, all optional, all on the I/O thread.
  std::function<void(const StateChange&)> on_state;
  std::function<void()> on_reconnect;                        // live again after a reconnect
  std::function<void(const std::string& last_id)> on_overflow;  // dropped for lagging; resuming
  std::function<void(const std::string& reason)> on_reset;      // resume was impossible: events were lost
  // The server applied a subscription's pattern, on each connection (after every reconnect too).
  std::function<void(const std::string& pattern)> on_subscribed;
  // A SubscribeOptions::snapshot subscription's snapshot is complete (`count` snapshot events
  // reached its handler); live events follow. Again after a reconnect that brought a new one.
  std::function<void(const std::string& pattern, std::uint64_t count)> on_snapshot;
  std::function<void(const Error&)> on_error;
};

class Client;

// A subscription; unsubscribes when destroyed or on unsubscribe(). Movable, not copyable.
// It may outlive its Client (then it does nothing).
class Subscription {
 public:
  Subscription() = default;
  Subscription(Subscription&& other) noexcept;
  Subscription& operator=(Subscription&& other) noexcept;
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription();

  void unsubscribe();
  // Leaves the subscription running for the Client's lifetime (no unsubscribe at destruction).
  void detach() noexcept;
  bool active() const noexcept;
  const std::string& pattern() const noexcept { return pattern_; }

 private:
  friend class Client;
  struct shared_state;
  Subscription(std::weak_ptr<shared_state> owner, std::uint64_t handle, std::string pattern);

  std::weak_ptr<shared_state> owner_;
  std::uint64_t handle_ = 0;
  std::string pattern_;
};

class Client {
 public:
  // Throws ClientError ("bad_options") for an endpoint that is not a ws:// or wss:// URL, a
  // missing token, an unreadable CA file, or a last_event_id that is not a position.
  explicit Client(ClientOptions options);
  ~Client();  // stop()
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Starts the I/O thread and connects. Subscriptions may be made before or after.
  void start();
  // Closes normally (1000), waits up to `grace` for the close handshake, joins the I/O thread.
  // From inside a callback it only asks for the close (the thread cannot join itself); call
  // wait() or stop() again from another thread. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds{3000});

  // Blocks until the client is closed: stop() was called or a final close code ended it (then
  // on_error has had an Error with code "closed").
  // Returns the close code that ended it (1000 after stop()). With a timeout: nullopt if still
  // running.
  std::uint16_t wait();
  std::optional<std::uint16_t> wait_for(std::chrono::milliseconds timeout);

  // Throws ClientError("invalid_topic") for a pattern that breaks docs/protocol.md section 4.
  // A pattern the server refuses later (forbidden_topic) is reported through on_error with
  // code "subscription_failed:<code>" and the Subscription becomes inactive.
  Subscription subscribe(std::string_view pattern, std::function<void(const Event&)> handler,
                         SubscribeOptions options = {});

  State state() const;
  std::uint16_t final_code() const;  // 0 until closed
  std::string final_reason() const;
  // The resume position: the id of the last event delivered to handlers, to persist and pass
  // back as ClientOptions::last_event_id (or set_last_event_id before start()). Before the first
  // event it is `{epoch}-0`, the start of the server's epoch, once the first subscription is
  // applied; nullopt until then (and when given none, until the server names its epoch).
  std::optional<std::string> last_event_id() const;
  bool set_last_event_id(std::string_view id);  // before start(); false if not an event id or `{epoch}-0`
  // The delivery delays of live events so far (p50/p99 over the last 1,000) and the clock offset.
  LatencyStats latency() const;

 private:
  friend class Subscription;
  using shared_state = Subscription::shared_state;
  std::shared_ptr<shared_state> state_;
};

}  // namespace globemeet
