// One WebSocket connection after its 101: raw bytes in through wire's frame parser, frames out
// through the connection's outbound_queue with one send per loop turn. Everything of one
// connection runs on its strand (the socket's executor; the io_context itself when the server
// runs one thread); fan-out reaches it from other threads only through deliver_live(), which
// touches the queue and the replay backlog under their locks.
//
// websocket_session.cpp holds the I/O (reads, writes, timers, closing);
// websocket_requests.cpp holds what each client frame does (auth, subscribe, ...).
#pragma once
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstdint>
#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "byte_stream.hpp"
#include "hub.hpp"
#include "outbound_queue.hpp"
#include "server_state.hpp"
#include "session_registry.hpp"
#include "globemeet/core/frames.hpp"
#include "globemeet/server/auth/claims.hpp"
#include "globemeet/server/log/replay_cursor.hpp"
#include "globemeet/server/wire/frame_parser.hpp"

namespace globemeet::server::net {

// What the handshake learned, handed to the session.
struct websocket_start {
  std::string address;                 // the client's IP; one per-address slot is held
  std::string last_event_id;           // Last-Event-ID header; empty when absent
  std::optional<auth::claims> claims;  // from Authorization: Bearer; a per-tenant slot is held
};

class websocket_session final : public std::enable_shared_from_this<websocket_session>,
                                public event_sink,
                                public registered_session {
 public:
  websocket_session(server_state& state, session_registry& registry, byte_stream stream, websocket_start start);
  ~websocket_session();

  // `early_bytes`: what the HTTP reader took past the handshake (read before start returns).
  void start(std::string_view early_bytes);

  // Any thread, under the hub lock.
  void deliver_live(std::span<const event_run> runs, std::int64_t now_us) override;
  void begin_shutdown() override;                                      // any thread
  void tick() override;                                                // any thread
  void socket_ready(std::uint32_t events) override;                    // any thread; plain TCP

 private:
  // ---- I/O (websocket_session.cpp) ----
  void read_more();                                                // TLS
  void on_read(boost::system::error_code ec, std::size_t bytes);  // TLS
  void read_available();                                           // plain TCP
  void feed(std::string_view bytes);
  void schedule_write();  // from any thread
  void write_batch();     // on the strand
  template <class>
  friend class write_turn;  // calls write_batch() at the end of a loop turn
  // Plain TCP: one non-blocking send; false when the socket failed (`sent` is 0 when full).
  bool send_some(std::string_view bytes, std::size_t& sent);
  // Plain TCP: what the socket did not take at once is sent when it becomes writable.
  void on_writable();
  // Bookkeeping after a batch went out; false when the connection is done writing.
  bool batch_written();
  void write_failed();
  void on_tick();
  void check_overflow(std::int64_t now_us);
  void overflow(std::int64_t lag_ms);
  // Queues `final_frames` and a close frame with `code`; the socket is closed once the close
  // frame is written and the client answered, or after one second.
  void close_connection(std::uint16_t code, std::string_view reason, std::vector<outbound_frame> final_frames = {},
                        bool keep_pending = true);
  void hard_close();
  // TLS, once the close frame is out: close_notify, then the socket (see the .cpp).
  void shutdown_tls();
  void teardown();

  // ---- frames out ----
  outbound_frame text_frame(const core::server_frame& frame) const;
  void send(const core::server_frame& frame);
  // Queues the event's shared frame; true when the queue is now past the overflow limits.
  bool send_event(const log::stored_event_ptr& event, std::int64_t now_us);
  bool send_events(std::span<const event_run> runs, std::int64_t now_us, bool live = true);
  void send_error(std::string_view req, std::string_view code, std::string_view message, std::string_view topic = {});
  // A refusal that says nothing against the client (rate_limited): not counted toward 4400.
  void send_refusal(std::string_view req, std::string_view code, std::string_view message);
  void send_control(wire::opcode op, std::string payload);

  // ---- requests (websocket_requests.cpp) ----
  void handle_text(std::string_view text);
  void authenticate(const std::string& token);
  void on_authenticated();
  void subscribe(const core::subscribe_frame& frame);
  void unsubscribe(const core::unsubscribe_frame& frame);
  void refresh(const core::refresh_frame& frame);
  bool permitted(std::string_view pattern) const;
  void send_snapshot(const std::string& req, const std::vector<log::stored_event_ptr>& latest);
  void keep_send_buffer_small();  // conflation (section 7.1)
  void replay_step();
  void finish_replay();
  void send_held_live();  // after a replay or a snapshot
  std::optional<std::string> head_id(const log::log_bounds& bounds) const;

  server_state& state_;
  session_registry& registry_;
  byte_stream stream_;
  const std::uint64_t id_;
  const std::string address_;
  std::string last_event_id_header_;
  // A resume from an id this node has not fanned out yet but the log knows exists (a cluster
  // node a little behind the stream): the subscribe waits for the next ticks instead of
  // answering reset future_id. At most max_resume_waits ticks per connection.
  std::unique_ptr<core::subscribe_frame> waiting_subscribe_;
  int resume_waits_ = 0;
  static constexpr int max_resume_waits = 3;

  wire::frame_parser parser_;
  // TLS only (plain TCP reads into a per-thread buffer). Clients mostly send small frames
  // (requests, pongs): start small and grow only for a client that fills the buffer.
  static constexpr std::size_t min_read_buffer = 512, max_read_buffer = 16384;
  std::vector<char> read_buffer_;

  outbound_queue queue_;
  std::vector<outbound_frame> batch_;  // the batch being written
  // The bytes of the batch still to write: a TLS write's whole batch, or what a plain socket
  // did not take at once. Empty (no memory held) while the connection keeps up.
  std::string unsent_;
  std::size_t unsent_offset_ = 0;
  log::stored_event_ptr last_written_event_;

  // Created only once a close is sent: an open connection holds no timer of its own (the
  // server's one session tick drives every other deadline).
  std::unique_ptr<boost::asio::steady_timer> hard_close_timer_;

  // Authentication and token lifetime: what the session needs of its verified token (the
  // other claims were checked by the verifier and are not kept for the connection's life).
  struct token_grant {
    std::string sub;
    std::string tenant;
    std::vector<std::string> perms;  // the patterns the token permits
    std::int64_t exp = 0;            // Unix seconds
    explicit token_grant(auth::claims&& claims)
        : sub(std::move(claims.sub)), tenant(std::move(claims.tenant)), perms(std::move(claims.perms)), exp(claims.exp) {}
  };
  std::optional<token_grant> grant_;
  bool tenant_slot_ = false;
  std::int64_t connected_at_ms_ = 0;
  bool expiring_sent_ = false;

  // Subscriptions (strand only; the hub holds its own copy in the tenant's index).
  std::vector<std::string> patterns_;
  bool conflate_ = false;  // a subscribe asked for conflation of gauges (section 7.1)

  // Replay of a resuming subscribe, with the live events that arrive meanwhile. Allocated only
  // for a resuming connection (at most once per connection): most never resume.
  struct replay_job {
    std::string req;
    std::shared_ptr<std::vector<std::string>> patterns;  // what the replay matches; refresh may shrink it
    std::unique_ptr<log::replay_cursor> cursor;
    std::uint64_t count = 0;
    std::vector<log::stored_event_ptr> chunk;  // read from the cursor, not yet all queued
    std::size_t next_in_chunk = 0;  // chunk[next_in_chunk..] are still to send
    bool cursor_done = false;       // the cursor has nothing after chunk
    // Count the replays in progress (websocket_requests.cpp), which share the step size.
    replay_job();
    ~replay_job();
    replay_job(const replay_job&) = delete;
    replay_job& operator=(const replay_job&) = delete;
  };
  std::unique_ptr<replay_job> replay_;
  bool replay_waiting_for_writes_ = false;
  // Live events held back while a replay (or a snapshot) is being queued. Created with the first and kept
  // until the session ends: a fan-out thread may still be about to take its lock.
  struct held_live {
    std::mutex mutex;                 // guards the members below
    std::uint64_t up_to_seq = 0;      // live events up to it are in the replay
    std::vector<log::stored_event_ptr> events;
    std::size_t bytes = 0;
  };
  std::unique_ptr<held_live> held_;
  std::atomic<bool> replaying_{false};  // set once held_ exists, under its lock; read first without it

  // Liveness and abuse limits.
  std::int64_t last_ping_sent_ms_ = 0;
  bool awaiting_pong_ = false;
  std::int64_t rate_window_start_ms_ = 0;
  unsigned requests_in_window_ = 0;
  // When the last error replies were sent: allocated at the first one, since most connections
  // never get any.
  struct error_window {
    static constexpr std::size_t limit = 10;  // more than this many within window_ms closes
    static constexpr std::int64_t window_ms = 10'000;
    std::array<std::int64_t, limit + 1> times_ms{};  // a ring of the newest limit + 1
    std::size_t count = 0;                           // replies recorded so far
  };
  std::unique_ptr<error_window> errors_;

  // Closing.
  std::atomic<bool> overflow_check_posted_{false};
  bool close_sent_ = false;
  bool close_written_ = false;
  bool close_received_ = false;
  bool socket_closed_ = false;
  bool tls_shutting_down_ = false;  // teardown waits for the TLS shutdown to finish
  bool tls_close_notify_received_ = false;  // logged with `disconnected`
  bool torn_down_ = false;
};

}  // namespace globemeet::server::net
