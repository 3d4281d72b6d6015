#include "websocket_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>

#include <algorithm>
#include <array>
#include <chrono>

#include "logger.hpp"
#include "readiness_poller.hpp"
#include "write_turn.hpp"
#include "globemeet/core/codec.hpp"

namespace globemeet::server::net {

namespace {
constexpr std::int64_t hard_close_after_ms = 1000;
}  // namespace

websocket_session::websocket_session(server_state& state, session_registry& registry, byte_stream stream,
                                     websocket_start start)
    : state_(state),
      registry_(registry),
      stream_(std::move(stream)),
      id_(state.next_connection_id.fetch_add(1)),
      address_(std::move(start.address)),
      last_event_id_header_(std::move(start.last_event_id)),
      parser_(wire::parser_limits{core::codec::max_client_frame_bytes}) {
  if (start.claims) grant_.emplace(std::move(*start.claims));
  tenant_slot_ = grant_.has_value();
}

websocket_session::~websocket_session() = default;

void websocket_session::start(std::string_view early_bytes) {
  state_.stats.connections.fetch_add(1, std::memory_order_relaxed);
  state_.stats.connections_total.fetch_add(1, std::memory_order_relaxed);
  registry_.add(id_, shared_from_this());
  if (!stream_.is_tls()) {
    // From now on the server's readiness poller says when this socket can be read or written
    // (an idle connection has no Asio operation); reads and writes never block the thread.
    const int fd = stream_.release_to_poller();
    if (fd < 0 || !state_.poller->watch(fd, id_)) {
      hard_close();
      return;
    }
  }
  connected_at_ms_ = steady_now_us() / 1000;
  last_ping_sent_ms_ = connected_at_ms_;
  if (grant_) on_authenticated();
  // Upgraded while the server began to drain: it missed the shutdown broadcast.
  if (state_.draining.load()) begin_shutdown();
  if (!early_bytes.empty()) feed(early_bytes);
  if (stream_.is_tls()) read_more();
}

// ---- reading ---------------------------------------------------------------------------------

void websocket_session::read_more() {  // TLS
  if (socket_closed_) {
    if (!tls_shutting_down_) teardown();
    return;
  }
  if (read_buffer_.empty()) read_buffer_.resize(min_read_buffer);
  stream_.async_read_some(boost::asio::buffer(read_buffer_),
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                            self->on_read(ec, n);
                          });
}

void websocket_session::socket_ready(std::uint32_t events) {
  boost::asio::dispatch(stream_.get_executor(), [self = shared_from_this(), events] {
    if (self->socket_closed_) return;
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && !self->unsent_.empty()) self->on_writable();
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) self->read_available();
  });
}

void websocket_session::read_available() {  // plain TCP
  // Into the thread's buffer, as uWebSockets does: an idle connection holds no read buffer.
  thread_local std::array<char, max_read_buffer> buffer;
  // The poller reports an edge once: read until EAGAIN, but let other connections run after
  // a few buffers from one client.
  for (int reads = 0; reads < 4; ++reads) {
    const ssize_t n = ::recv(stream_.polled_fd(), buffer.data(), buffer.size(), 0);
    if (n > 0) {
      feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
      if (socket_closed_) return;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    hard_close();  // the client closed the connection, or the socket failed
    return;
  }
  boost::asio::post(stream_.get_executor(), [self = shared_from_this()] {
    if (!self->socket_closed_) self->read_available();
  });
}

void websocket_session::on_read(boost::system::error_code ec, std::size_t bytes) {  // TLS
  if (ec) {
    // The client's close_notify (eof; a bare TCP close is stream_truncated) can reach this
    // pending read rather than the shutdown's own.
    if (ec == boost::asio::error::eof) tls_close_notify_received_ = true;
    hard_close();
    if (!tls_shutting_down_) teardown();
    return;
  }
  feed(std::string_view(read_buffer_.data(), bytes));
  if (bytes == read_buffer_.size() && read_buffer_.size() < max_read_buffer) read_buffer_.resize(read_buffer_.size() * 4);
  read_more();
}

void websocket_session::feed(std::string_view bytes) {
  if (parser_.finished()) return;  // after a close or a protocol error nothing more is read
  // Per thread, not per connection: feed() is never re-entered, and an idle connection then
  // keeps no parse buffer.
  thread_local std::vector<wire::frame_event> parsed;
  parsed.clear();
  parser_.feed(bytes, parsed);
  for (auto& event : parsed) {
    switch (event.type) {
      case wire::frame_event::kind::text:
        if (!close_sent_) handle_text(event.payload);
        break;
      case wire::frame_event::kind::ping:
        if (!close_sent_) send_control(wire::opcode::pong, std::move(event.payload));
        break;
      case wire::frame_event::kind::pong:
        awaiting_pong_ = false;
        break;
      case wire::frame_event::kind::close:
        close_received_ = true;
        if (close_sent_) {
          if (close_written_) hard_close();
        } else {
          // Echo the client's code (RFC 6455 5.5.1); an empty close is answered empty.
          close_connection(event.code, "");
        }
        break;
      case wire::frame_event::kind::protocol_error:
        close_connection(event.code, event.payload, {}, false);
        break;
    }
    if (socket_closed_) return;
  }
}

// ---- writing ---------------------------------------------------------------------------------

void websocket_session::schedule_write() {
  // Never run inline: a fan-out batch (or a burst of replies) is queued whole first and then
  // leaves in one send, at the end of this loop turn.
  if (state_.config.threads == 1) {
    write_turn<websocket_session>::defer(shared_from_this(), stream_.get_executor());
    return;
  }
  boost::asio::post(stream_.get_executor(), [self = shared_from_this()] { self->write_batch(); });
}

void websocket_session::write_batch() {
  if (socket_closed_ || !queue_.take_batch(batch_)) return;  // nothing pending: the writer is idle
  if (stream_.is_tls()) {
    unsent_.clear();
    for (const auto& frame : batch_) unsent_.append(frame.bytes());
    boost::asio::async_write(stream_, boost::asio::buffer(unsent_),
                             [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                               if (ec) return self->write_failed();
                               self->unsent_.clear();
                               if (self->batch_written()) self->write_batch();
                             });
    return;
  }
  // Plain TCP, the way uWebSockets corks: the batch is copied into this thread's scratch buffer
  // and offered to the (non-blocking) socket at once. One send per connection per batch, no
  // asynchronous operation while the client keeps up, and only what the socket did not take
  // is kept by the connection.
  thread_local std::string scratch;
  scratch.clear();
  for (const auto& frame : batch_) scratch.append(frame.bytes());
  std::size_t sent = 0;
  if (!send_some(scratch, sent)) return write_failed();
  if (sent < scratch.size()) {
    // Sent when the poller reports the socket writable again (see socket_ready).
    unsent_.assign(scratch, sent);
    unsent_offset_ = 0;
    return;
  }
  if (!batch_written()) return;
  // The writer stays busy for the rest of this turn of the event loop: what fan-out queues
  // meanwhile goes out together in the next send. Under load, batches grow with the load
  // (fewer, fuller sends on both ends).
  schedule_write();
}

bool websocket_session::send_some(std::string_view bytes, std::size_t& sent) {
  for (;;) {
    const ssize_t n = ::send(stream_.polled_fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      sent = static_cast<std::size_t>(n);
      return true;
    }
    if (errno == EINTR) continue;
    sent = 0;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

void websocket_session::on_writable() {
  if (socket_closed_) return;
  std::size_t sent = 0;
  if (!send_some(std::string_view(unsent_).substr(unsent_offset_), sent)) return write_failed();
  unsent_offset_ += sent;
  if (unsent_offset_ < unsent_.size()) return;  // still full: wait for the next report
  // Caught up: give the slow period's buffer back.
  std::string().swap(unsent_);
  unsent_offset_ = 0;
  if (batch_written()) write_batch();
}

void websocket_session::write_failed() {
  queue_.batch_written();
  batch_.clear();
  hard_close();
}

bool websocket_session::batch_written() {
  queue_.batch_written();
  const std::int64_t now_us = unix_now_us();
  metrics::latency_tally latencies;
  std::uint64_t events_written = 0;
  const outbound_frame* last_event = nullptr;
  bool wrote_close = false;
  for (const auto& frame : batch_) {
    if (frame.event) {
      ++events_written;
      last_event = &frame;
      // Microseconds since framing where known (so the sub-millisecond buckets mean something),
      // else the millisecond `time`.
      const std::int64_t since_us = frame.event->framed_us != 0 ? now_us - frame.event->framed_us
                                                                : now_us - frame.event->time_ms * 1000;
      latencies.add(static_cast<double>(std::max<std::int64_t>(0, since_us)) / 1e6);
    } else if (frame.is_close()) {
      wrote_close = true;
    }
  }
  if (last_event) last_written_event_ = last_event->event;
  if (events_written) {
    state_.stats.events_out.fetch_add(events_written, std::memory_order_relaxed);
    state_.stats.observe_delivery_latencies(latencies);
  }
  batch_.clear();
  if (wrote_close) {
    close_written_ = true;
    if (close_received_) {
      hard_close();
      return false;
    }
  }
  if (replay_waiting_for_writes_) {
    replay_waiting_for_writes_ = false;
    boost::asio::post(stream_.get_executor(), [self = shared_from_this()] { self->replay_step(); });
  }
  return true;
}

// ---- frames out ------------------------------------------------------------------------------

outbound_frame websocket_session::text_frame(const core::server_frame& frame) const {
  return outbound_frame::of_bytes(wire::opcode::text, core::codec::encode(frame), steady_now_us());
}

void websocket_session::send(const core::server_frame& frame) {
  if (queue_.push(text_frame(frame)).result == outbound_queue::push_result::start_writer) schedule_write();
}

bool websocket_session::send_event(const log::stored_event_ptr& event, std::int64_t now_us) {
  const event_run run(&event, 1);
  return send_events(std::span<const event_run>(&run, 1), now_us);
}

bool websocket_session::send_events(std::span<const event_run> runs, std::int64_t now_us, bool live) {
  auto pushed = queue_.push_events(runs, now_us, live);
  if (pushed.conflated) state_.stats.conflated.fetch_add(pushed.conflated, std::memory_order_relaxed);
  switch (pushed.result) {
    case outbound_queue::push_result::start_writer:
      schedule_write();
      break;
    case outbound_queue::push_result::closed:
      for (const auto& run : runs) state_.stats.dropped.fetch_add(run.size(), std::memory_order_relaxed);
      return false;
    case outbound_queue::push_result::queued:
      break;
  }
  return now_us - pushed.oldest_queued_at_us > state_.config.overflow_lag_ms * 1000 ||
         pushed.queued_bytes > state_.config.max_queue_bytes;
}

void websocket_session::send_refusal(std::string_view req, std::string_view code, std::string_view message) {
  state_.stats.error_frames.fetch_add(1, std::memory_order_relaxed);
  send(core::error_frame{std::string(req), std::string(code), std::string(message), {}});
}

void websocket_session::send_error(std::string_view req, std::string_view code, std::string_view message,
                                   std::string_view topic) {
  state_.stats.error_frames.fetch_add(1, std::memory_order_relaxed);
  send(core::error_frame{std::string(req), std::string(code), std::string(message), std::string(topic)});
  // More than 10 error replies in 10 s: the client is broken or hostile (close 4400).
  const std::int64_t now_ms = steady_now_us() / 1000;
  if (!errors_) errors_ = std::make_unique<error_window>();
  auto& ring = errors_->times_ms;
  ring[errors_->count++ % ring.size()] = now_ms;
  // The slot written next holds the reply `limit` replies before this one: when it is
  // within the window, limit + 1 replies fell into it.
  const std::int64_t oldest = ring[errors_->count % ring.size()];
  if (errors_->count > error_window::limit && oldest > now_ms - error_window::window_ms)
    close_connection(4400, "too many invalid requests");
}

void websocket_session::send_control(wire::opcode op, std::string payload) {
  if (payload.size() > wire::max_control_payload) payload.resize(wire::max_control_payload);
  if (queue_.push(outbound_frame::of_bytes(op, payload, steady_now_us())).result ==
      outbound_queue::push_result::start_writer)
    schedule_write();
}

void websocket_session::deliver_live(std::span<const event_run> runs, std::int64_t now_us) {
  bool over_limit = false;
  // Only a resuming connection needs the lock; finish_replay() clears the flag after it queued
  // the held events, so a delivery that sees it clear comes after them.
  if (replaying_.load(std::memory_order_acquire)) {
    std::lock_guard lock(held_->mutex);
    // Two loops, not views::join: clang-14 (the fuzz build) cannot compile join_view over spans.
    for (const event_run& run : runs)
    for (const auto& event : run) {
      // Already part of this connection's replay (defensive: the hub hands out positions that
      // only later events exceed).
      if (event->seq <= held_->up_to_seq) continue;
      if (replaying_) {
        // Held until the replay is queued; finish_replay() sends it.
        held_->events.push_back(event);
        held_->bytes += event->websocket_frame.size();
        over_limit = over_limit || held_->bytes > state_.config.max_queue_bytes;
      } else {
        over_limit = send_event(event, now_us) || over_limit;
      }
    }
  } else {
    over_limit = send_events(runs, now_us);
  }
  if (over_limit && !overflow_check_posted_.exchange(true)) {
    // One check in flight at a time, however many events arrive meanwhile.
    boost::asio::post(stream_.get_executor(), [self = shared_from_this()] {
      self->overflow_check_posted_.store(false);
      self->check_overflow(steady_now_us());
    });
  }
}

// ---- deadlines -------------------------------------------------------------------------------

void websocket_session::tick() {
  boost::asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->on_tick(); });
}

void websocket_session::on_tick() {
  if (socket_closed_ || close_sent_) return;
  // A missed writable report must not stall the connection (the poller's reports are edges).
  if (!stream_.is_tls() && !unsent_.empty()) on_writable();
  if (socket_closed_) return;
  // Between two ticks the batch lists may have served many writes; an idle connection keeps
  // neither's memory.
  if (batch_.empty()) {
    std::vector<outbound_frame>().swap(batch_);
    queue_.release_spare_capacity();
  }
  const std::int64_t now_us = steady_now_us();
  const std::int64_t now_ms = now_us / 1000;
  const auto& c = state_.config;

  if (!grant_) {
    if (now_ms - connected_at_ms_ >= c.auth_timeout_ms) close_connection(4002, "no auth frame within the deadline");
    return;
  }

  check_overflow(now_us);
  if (close_sent_) return;
  if (waiting_subscribe_) {
    const core::subscribe_frame waiting = std::move(*waiting_subscribe_);
    waiting_subscribe_.reset();
    subscribe(waiting);
  }

  // WebSocket heartbeat: a ping every heartbeat_ms; the pong must come before the next one.
  if (now_ms - last_ping_sent_ms_ >= c.heartbeat_ms) {
    if (awaiting_pong_) {
      close_connection(4003, "no pong within the heartbeat deadline");
      return;
    }
    awaiting_pong_ = true;
    last_ping_sent_ms_ = now_ms;
    send_control(wire::opcode::ping, {});
  }

  // Token lifetime: `expiring` 60 s before exp, close 4001 at exp + grace.
  const std::int64_t wall_ms = unix_now_ms();
  if (wall_ms >= grant_->exp * 1000 + c.token_grace_ms) {
    close_connection(4001, "token expired");
    return;
  }
  if (!expiring_sent_ && wall_ms >= (grant_->exp - 60) * 1000) {
    expiring_sent_ = true;
    send(core::expiring_frame{grant_->exp, c.token_grace_ms});
  }
}

void websocket_session::check_overflow(std::int64_t now_us) {
  if (close_sent_) return;
  const std::int64_t lag_us = queue_.oldest_age_us(now_us);
  std::size_t held_bytes = 0;
  if (held_) {
    std::lock_guard lock(held_->mutex);
    held_bytes = held_->bytes;
  }
  if (lag_us > state_.config.overflow_lag_ms * 1000 || queue_.queued_bytes() > state_.config.max_queue_bytes ||
      held_bytes > state_.config.max_queue_bytes)
    overflow(lag_us / 1000);
}

void websocket_session::overflow(std::int64_t lag_ms) {
  if (close_sent_) return;
  state_.stats.overflow_closes.fetch_add(1, std::memory_order_relaxed);
  // The batch being written reaches the client before `overflow` does (the closing frames queue
  // behind it), so its last event, not the last completed write's, is the last one delivered.
  std::optional<std::string> last_id;
  const outbound_frame* in_flight = nullptr;
  for (const auto& frame : batch_)
    if (frame.event) in_flight = &frame;
  if (in_flight)
    last_id = in_flight->event->id;
  else if (last_written_event_)
    last_id = last_written_event_->id;
  std::vector<outbound_frame> final_frames;
  final_frames.push_back(text_frame(core::overflow_frame{lag_ms, last_id}));
  logger::info("overflow", {{"conn", id_}, {"lag_ms", lag_ms}});
  close_connection(4000, "overflow", std::move(final_frames), false);
}

// ---- closing ---------------------------------------------------------------------------------

void websocket_session::close_connection(std::uint16_t code, std::string_view reason,
                                         std::vector<outbound_frame> final_frames, bool keep_pending) {
  if (close_sent_ || socket_closed_) return;
  close_sent_ = true;
  std::string close;
  wire::append_close_frame(close, code, reason);  // no_status: an empty close
  final_frames.push_back(outbound_frame::of_frame(std::move(close), steady_now_us()));
  bool start_writer = false;
  std::size_t dropped = queue_.close_with(std::move(final_frames), keep_pending, start_writer);
  if (dropped) state_.stats.dropped.fetch_add(dropped, std::memory_order_relaxed);
  if (start_writer) schedule_write();
  hard_close_timer_ = std::make_unique<boost::asio::steady_timer>(stream_.get_executor());
  hard_close_timer_->expires_after(std::chrono::milliseconds(hard_close_after_ms));
  hard_close_timer_->async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->hard_close();
  });
  logger::info("closing_connection", {{"conn", id_}, {"code", static_cast<std::int64_t>(code)}, {"reason", reason}});
}

void websocket_session::hard_close() {
  if (socket_closed_) return;
  socket_closed_ = true;
  if (stream_.is_tls() && close_written_) return shutdown_tls();
  if (hard_close_timer_) hard_close_timer_->cancel();
  stream_.close();
  // A TLS session ends when its pending read fails; a polled one has none.
  if (!stream_.is_tls()) teardown();
}

// After the WebSocket close frame a TLS connection ends with close_notify (RFC 8446 6.1), so
// the client can tell the end of the stream from a truncation; TCP closes once the client
// answers with its own, or after hard_close_after_ms at most, so a silent client cannot hold
// the server. The session is torn down (and leaves the registry, which the drain at shutdown
// waits for) only when the socket is closed.
void websocket_session::shutdown_tls() {
  tls_shutting_down_ = true;
  if (!hard_close_timer_) hard_close_timer_ = std::make_unique<boost::asio::steady_timer>(stream_.get_executor());
  hard_close_timer_->expires_after(std::chrono::milliseconds(hard_close_after_ms));  // ends any earlier wait
  hard_close_timer_->async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->stream_.close();  // the shutdown then completes with an error
  });
  stream_.tls().async_shutdown([self = shared_from_this()](boost::system::error_code ec) {
    self->tls_close_notify_received_ = self->tls_close_notify_received_ || !ec;  // the client answered
    self->hard_close_timer_->cancel();
    self->stream_.close();
    self->teardown();
  });
}

void websocket_session::teardown() {
  if (torn_down_) return;
  torn_down_ = true;
  if (grant_) state_.fan_out->detach(grant_->tenant, id_, patterns_);
  state_.stats.subscriptions.fetch_sub(static_cast<std::int64_t>(patterns_.size()), std::memory_order_relaxed);
  patterns_.clear();
  if (tenant_slot_) state_.limits.release_tenant(grant_->tenant);
  state_.limits.release_address(address_);
  state_.stats.connections.fetch_sub(1, std::memory_order_relaxed);
  registry_.remove(id_);
  replay_.reset();
  const std::string_view last_event = last_written_event_ ? std::string_view(last_written_event_->id) : "";
  if (stream_.is_tls()) {
    logger::info("disconnected", {{"conn", id_}, {"last_event", last_event}, {"close_notify", tls_close_notify_received_}});
  } else {
    logger::info("disconnected", {{"conn", id_}, {"last_event", last_event}});
  }
}

void websocket_session::begin_shutdown() {
  boost::asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    if (self->close_sent_ || self->socket_closed_) return;
    std::vector<outbound_frame> final_frames;
    final_frames.push_back(
        self->text_frame(core::closing_frame{"shutdown", self->state_.config.reconnect_after_ms}));
    self->close_connection(wire::close_code::going_away, "server shutting down", std::move(final_frames), true);
  });
}

}  // namespace globemeet::server::net
