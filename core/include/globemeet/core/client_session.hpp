// The client's connection state machine, sans I/O (docs/protocol.md section 9).
//
// Theory of operation
// -------------------
// The session never touches a socket, a clock or a random source. An adapter (native: Beast,
// browser: WebSocket through wasm) feeds it inputs, each stamped with the current time and a
// random number in [0, 1), and then performs the actions it returns, in order:
//
//   inputs:  start, token_obtained / token_failed, opened, frame, event_received, closed,
//            timer_fired, subscribe / unsubscribe (the user), stop
//   actions: open (a connection), send (a text frame), close (the connection), arm_timer /
//            cancel_timer, request_token (call the token provider, saying why), deliver (an
//            event to handlers), state_changed, notice (reconnect, reset, overflow, error,
//            revoked, subscribed, snapshotted)
//
// Every connection has a number. An input about a connection that the session has already
// given up on (a late frame, a close after a client-side timeout) is ignored, so the adapter
// never has to reason about races. A close_action may name a connection whose handshake has
// not finished: the adapter aborts the attempt. Frames count only after `opened`. Timers are
// identified by kind; arming a kind replaces its previous deadline, and a timer_fired for a
// kind that is not armed (cancelled meanwhile) is ignored. Deadlines are absolute times in the
// same clock the inputs carry.
//
// Subscriptions and resume
// ------------------------
// Handles belong to the user and outlive connections. At `ready` the session sends every
// pattern it holds in one `subscribe` (chunks of 64, the protocol's limit) whose first frame
// carries `from` = the last delivered id; a later subscribe carries `from` only while the
// connection holds nothing. Before the first event, the `head` answering the connection's
// first subscribe (sent without `from`) stands as the last id, so an outage before any event
// loses nothing; on an empty log that head is `{epoch}-0`, the position before the epoch's
// first event, and resuming from it replays every event since. A refused `subscribe` applied
// nothing: with invalid_topic or forbidden_topic naming a pattern, that pattern's handles get
// subscription_failed and are dropped and the rest is asked for again; too_many_subscriptions
// fails every pattern of the request; resume_not_allowed is retried without `from`. A request
// refused as `rate_limited` was not processed: no notice; a subscribe's patterns, an
// unsubscribe's and a ping are sent again (the `resend` timer, one second later: the server's
// window), a refresh is retried with backoff keeping the token.
// `notice reconnected` comes at `ready` (resume is under way); a `reset` from the server comes
// later as `notice reset`. Each handle gets `notice subscribed` when the server's `subscribed`
// covers its pattern, on every connection (a handle added to a pattern the connection already
// holds gets it at once); a handle is "subscribing" from a connection's loss until then.
//
// The current state (snapshot) and conflation
// -------------------------------------------
// A handle subscribed with subscribe_options::snapshot asks for the current state of its
// pattern (section 5.3). Every subscribe frame carrying a pattern of such a handle carries
// `"snapshot":true`, the resume frame at `ready` included, so that a `reset` brings the snapshot
// in place of the replay; a snapshot handle added to a pattern the connection already holds
// sends that pattern again with `snapshot` (the server answers a held pattern as usual). From
// sending such a frame until its `snapshotted` (or its `replayed` without a snapshot: the resume
// was possible), the handle awaits its snapshot: events marked `snapshot` go to the awaiting
// handles whose pattern matches and to no other, bypass duplicate suppression and never move
// the last id; each awaiting handle covered by the frame gets `notice snapshotted` (detail: the
// count). session_config::conflate puts `"conflate":true` on every subscribe frame (section 7.1).
//
// Latency
// -------
// `tick.now_ms` is the Unix clock, so the session measures each event's delivery delay itself
// (sections 7.2, 9): the clock offset starts from `ready.time_ms` minus now and is then the
// offset of the pong with the shortest round trip among the last 8 (server time minus the
// midpoint between ping and pong). A server that predates `time_ms` leaves the offset at 0
// (delays then include the clocks' difference) until a pong carries it. Every deliver action
// whose event `time` parses carries delay_ms = now + offset - time; only live events enter the
// p50/p99 of latency() (the last 1,000, a fixed ring): not snapshot events, and not replayed
// ones, those between the `subscribed` answering a subscribe with `from` and its `replayed`.
//
// Tokens
// ------
// `request_token` asks the adapter's token provider, with a token_reason; the adapter answers
// every request with exactly one token_obtained or token_failed (the session never has two
// requests outstanding). A request retried after a failure keeps its reason.
// A token is used for a new connection unless its JWT `exp` minus refresh_before_ms has passed.
// * token_failed while fetching: notice error `token_unavailable`, then reconnecting with
//   backoff; a provider that is down is retried for as long as it takes.
// * A token whose `exp` has already passed when it arrives for a connection counts as a
//   failure (backoff, retry). The second such token in a row, with no usable token in between,
//   ends the session: closed, final_code 4001, reason "token expired and the provider gave no
//   fresh one" (the provider is evidently broken, e.g. its clock; retrying cannot help).
// * While live: the refresh timer (exp - refresh_before_ms, or halfway to `exp` when that has
//   passed) and `expiring` request a token; a token newer than the connection's `exp` is sent
//   as `refresh`. A failed, expired, not-newer or refused token is retried with backoff while
//   the connection stays up; if the server closes with 4001 the token is dropped and the next
//   connection fetches a fresh one.
// * 4401 (the token is refused: bad signature, issuer, audience) is final, except once for a
//   session whose adapter has a token provider (`session_config::token_provider`): a server
//   that restarted with a new signing key refuses every token it issued before, and only a
//   fresh one can tell. The token is dropped and the next connection, after the usual backoff,
//   fetches a new one; if that is refused too, before any connection reached `ready`, the
//   session ends with 4401.
//
// Adapters report a refused handshake as a close: network failure 1006, HTTP 401 4401,
// 403 4403, 429 4029, other 4xx 4400, 5xx 1011.
//
// Ending
// ------
// disconnect() is a pause the user asked for: the connection closes with 1000, every timer is
// cancelled and the session waits in `idle`, keeping its subscriptions, resume position and
// token; start() connects again and resumes (`notice reconnected` at `ready`). A token request
// still outstanding is answered into `idle` and kept for that next start().
//
// The session is closed for good by stop() (no notice: the user asked) or by a final close
// code, or by a provider that gives only expired tokens. The latter two emit `notice error`
// with detail "closed", the close code in `close_code` and the reason in `close_reason`, just
// before `state_changed` to closed, so every adapter can report why it went quiet.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "globemeet/core/backoff.hpp"
#include "globemeet/core/frames.hpp"
#include "globemeet/core/latency.hpp"
#include "globemeet/core/result.hpp"

namespace globemeet::core {

// Every input carries the time and one random number; the session uses either when it needs to.
// `now_ms` is Unix time in milliseconds (the system clock): token expiries (`exp`, `ready.exp`)
// are Unix seconds and the refresh deadline is derived from them, so both must share one scale.
// A clock step is harmless: every deadline is absolute and re-derived when it is armed again.
struct tick {
  std::int64_t now_ms = 0;   // Unix time, milliseconds
  double random = 0.5;       // uniform in [0, 1)
};

enum class session_state { idle, fetching_token, connecting, authenticating, live, reconnecting, closed };
const char* to_string(session_state s) noexcept;

enum class timer_kind {
  reconnect,       // backoff elapsed: connect again
  handshake,       // open + ready must happen before this
  heartbeat,       // send a `ping`
  pong,            // the `pong` for the last ping is overdue: the connection is dead
  refresh,         // ask for a new token before `exp`
  stable,          // the connection has been up long enough to reset the backoff
  resend,          // requests refused as rate_limited go out again
};
const char* to_string(timer_kind k) noexcept;

struct session_config {
  std::string endpoint;                   // wss://host/v1/events
  bool token_in_header = true;            // native: Authorization header; browsers: `auth` frame
  // True when request_token reaches a provider that can mint a new token; false when the
  // adapter answers with one fixed token (asking again after 4401 would only repeat it).
  bool token_provider = false;
  backoff_policy backoff{};
  std::int64_t handshake_timeout_ms = 10'000;
  std::int64_t refresh_before_ms = 60'000;   // refresh this long before `exp`
  std::int64_t stable_after_ms = 10'000;     // up this long: backoff attempts reset
  std::int64_t default_heartbeat_ms = 20'000;
  bool conflate = false;  // every subscribe frame carries "conflate":true (section 7.1)
};

struct subscribe_options {
  bool snapshot = false;  // the current state of the pattern first (section 5.3)
};

// Close codes the session itself sends in a close_action.
inline constexpr std::uint16_t close_normal = 1000;              // stop()
inline constexpr std::uint16_t close_protocol_violation = 1008;  // an event from another epoch without `reset`
inline constexpr std::uint16_t close_handshake_timeout = 4002;   // no `ready` within handshake_timeout_ms
inline constexpr std::uint16_t close_heartbeat_timeout = 4003;   // no `pong` within heartbeat_ms

// ---- actions ---------------------------------------------------------------------------------
struct open_action {
  std::uint64_t connection = 0;
  std::string url;
  std::string subprotocol;             // "globemeet-events.v1"
  std::string authorization;           // "Bearer <jwt>" or empty (then the session sends `auth`)
  std::string last_event_id;           // for the Last-Event-ID header; empty when none
  friend bool operator==(const open_action&, const open_action&) = default;
};
struct send_action {
  std::uint64_t connection = 0;
  std::string text;
  friend bool operator==(const send_action&, const send_action&) = default;
};
struct close_action {
  std::uint64_t connection = 0;
  std::uint16_t code = 1000;
  std::string reason;
  friend bool operator==(const close_action&, const close_action&) = default;
};
struct arm_timer_action {
  timer_kind timer{};
  std::int64_t at_ms = 0;
  friend bool operator==(const arm_timer_action&, const arm_timer_action&) = default;
};
struct cancel_timer_action {
  timer_kind timer{};
  friend bool operator==(const cancel_timer_action&, const cancel_timer_action&) = default;
};
// Why the session asks for a token, so a provider can tell a routine refresh from a token the
// server turned down (and, say, skip its cache or re-authenticate the user).
enum class token_reason {
  connect,    // a connection needs a token and the session holds none it can use
  refresh,    // the connection's token nears `exp` (refresh_before_ms), or a refresh is retried
  expiring,   // the server warned with `expiring`
  expired,    // the server closed with 4001: the token it had has expired
  refused,    // the server closed with 4401: the token was refused (e.g. a new signing key)
};
const char* to_string(token_reason r) noexcept;
struct request_token_action {
  token_reason reason = token_reason::connect;
  friend bool operator==(const request_token_action&, const request_token_action&) = default;
};
struct deliver_action {
  // After `frame`: the event frame's JSON text, as received, and its decoded envelope. After
  // `event_received`: `frame` is empty and `ev` holds only id, topic and snapshot; the adapter, which
  // parsed the frame itself, hands the user the event it fed in (this very input's event).
  std::string frame;
  event ev;
  std::vector<std::uint64_t> handles;       // the subscriptions whose pattern matches
  bool snapshot = false;                    // a snapshot event: `handles` are the ones awaiting it
  std::optional<std::int64_t> delay_ms{};   // the delivery delay; nullopt when `time` does not parse
  friend bool operator==(const deliver_action&, const deliver_action&) = default;
};
struct state_changed_action {
  session_state from{}, to{};
  std::uint16_t code = 0;  // close code that caused it, 0 if none
  std::string reason;
  friend bool operator==(const state_changed_action&, const state_changed_action&) = default;
};
enum class notice_kind {
  reconnected,         // live again after a reconnect; resume is under way
  reset,               // the server could not resume: `detail` is the reason
  overflow,            // the server dropped us for lagging; a reconnect follows: `detail` is the
                       // last id the server delivered
  error,               // an `error` frame, a local protocol violation (`bad_frame`, `epoch_changed`),
                       // a token provider failure (`token_unavailable`), or the session ending
                       // for good (`closed`, with close_code and close_reason): `detail` is the code
  subscription_failed, // a pattern was refused (`handle` says which): `detail` is the code
  revoked,             // the server removed a pattern (`handle`): permission_revoked
  token_expiring,      // the server warned that the token is about to expire
  subscribed,          // the server applied the pattern of `handle` on this connection (again
                       // after every reconnect): `detail` is the pattern
  snapshotted,         // the snapshot `handle` awaited is complete: `detail` is the count, in decimal
};
const char* to_string(notice_kind k) noexcept;
struct notice_action {
  notice_kind kind{};
  std::string detail;
  std::string message;
  std::uint64_t handle = 0;
  std::uint16_t close_code = 0;  // error `closed`: the close code that ended the session
  std::string close_reason{};    // error `closed`: its reason
  friend bool operator==(const notice_action&, const notice_action&) = default;
};

using action = std::variant<open_action, send_action, close_action, arm_timer_action, cancel_timer_action,
                            request_token_action, deliver_action, state_changed_action, notice_action>;

// ---- the session -----------------------------------------------------------------------------
class client_session {
 public:
  explicit client_session(session_config config);
  ~client_session();
  client_session(client_session&&) noexcept;
  client_session& operator=(client_session&&) noexcept;

  // Inputs. Each appends actions; take them with take_actions() and perform them in order.
  void start(const tick& t);
  void token_obtained(const tick& t, std::string token);   // exp is read from the JWT
  void token_failed(const tick& t, std::string_view reason);
  void opened(const tick& t, std::uint64_t connection);
  void frame(const tick& t, std::uint64_t connection, std::string_view text);
  // An `event` frame the adapter parsed and checked itself (an object with op "event",
  // specversion "1.0", string members id, source, type, subject, time, topic, tenant, an object
  // `data`, datacontenttype absent or "application/json", snapshot absent or true): `id`,
  // `topic` and `snapshot` decide, `time` gives the delay. The
  // session does what `frame` does with the event, without its JSON: an id that is not an event
  // id (`{epoch}-{seq}`, seq >= 1) or a topic that is not a topic name is `bad_frame`, an event
  // before `ready` is `bad_frame`, an id at or before the last delivered one is dropped, another
  // epoch without `reset` closes with 1008, and the deliver action (empty `frame`) names the
  // matching handles. Every other frame, and any event the adapter could not check, goes to
  // `frame`, whose strict decoder gives the precise bad_frame.
  void event_received(const tick& t, std::uint64_t connection, std::string_view id, std::string_view topic,
                      std::string_view time, bool snapshot);
  void closed(const tick& t, std::uint64_t connection, std::uint16_t code, std::string_view reason);
  void timer_fired(const tick& t, timer_kind timer);
  // Returns a handle (never 0) or the `invalid_topic` error; the pattern is validated locally.
  result<std::uint64_t> subscribe(const tick& t, std::string_view pattern, subscribe_options options = {});
  void unsubscribe(const tick& t, std::uint64_t handle);
  void stop(const tick& t);  // close normally and stay closed
  // Close normally and wait in `idle` until start() again; subscriptions, the resume position
  // and the token are kept, so the next start() resumes where this connection stopped.
  void disconnect(const tick& t);

  std::vector<action> take_actions();
  // The actions take_actions() would return, left in place (an adapter's fast path looks first).
  const std::vector<action>& pending_actions() const noexcept;

  session_state state() const noexcept;
  std::optional<std::string> last_event_id() const;
  // Before start(), to resume after a restart; false when not an id or already started.
  bool set_last_event_id(std::string_view id);
  std::uint16_t final_code() const noexcept;  // the close code that ended it, once closed
  latency_stats latency() const;              // delays of live events and the clock offset

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Which class a close code belongs to (docs/protocol.md section 8).
bool is_final_close_code(std::uint16_t code) noexcept;

}  // namespace globemeet::core
