// What each client frame does on a live connection (docs/protocol.md sections 2, 5 and 6).
#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <atomic>

#include "logger.hpp"
#include "websocket_session.hpp"
#include "globemeet/core/codec.hpp"
#include "globemeet/core/event_id.hpp"
#include "globemeet/core/topic.hpp"
#include "globemeet/server/log/last_value_cache.hpp"
#include "globemeet/server/log/resume_plan.hpp"

namespace globemeet::server::net {

namespace {
constexpr std::size_t max_patterns_per_connection = 256;
constexpr std::size_t max_patterns_per_subscribe = 64;
constexpr unsigned max_requests_per_second = 100;
// A replay step queues up to replay_step_bytes (never more than half the queue's limit) for the
// writer's next send, then waits for that send. One chunk of 256 events per loop turn, as
// before, let every live fan-out turn (1,000 small sends) hold the replay to 256 events. Larger
// steps also let live events share turns (fewer, fuller sends), at some live latency: per step,
// 512 KiB replayed 0.7 M events/s with live p99 +1-2 ms, 1 MiB 1.1 M and +2-4 ms, 2 MiB
// 1.5 M and +5-9 ms (memory log, 200 live events/s to 1,000 subscribers). 2 MiB, because
// from the disk log 1 MiB gave 0.77 M events/s and 2 MiB 1.1-1.2 M: a live p99 that stays
// in the tens of milliseconds buys a client that catches up twice as fast after an outage.
constexpr std::size_t replay_step_bytes = 2 << 20;
// A step examines at most this many events (about 2 ms from disk; about 2 MiB of 450-byte
// frames), so a replay whose patterns match little still yields to other work.
constexpr std::size_t replay_step_events = 4096;
// Replays in progress share both, down to 1/16 each (64 KiB, 128 events): with many resuming
// clients at once (a reconnect after a restart) a loop turn stays about as long as one replay's
// step until 16 run, and each step stays below the old 256-event chunk beyond.
constexpr std::size_t replay_share_divisor_max = 16;
std::atomic<std::size_t> replays_in_progress{0};
// A step reads the log in chunks of at most this many events and about this many bytes: a disk
// log decodes what it reads into new memory. 512 rather than 256 reads each disk row (up to
// 256 events) about once instead of twice: +15% from disk.
constexpr std::size_t replay_chunk_events = 512;
constexpr std::size_t replay_chunk_bytes = 512 * 1024;
// SO_SNDBUF of a conflating connection (see keep_send_buffer_small).
constexpr int conflating_send_buffer_bytes = 32 * 1024;

// The `req` of a frame the codec refused, when the frame is still a JSON object with a string
// `req` of 1 to 64 bytes: the error then names the request it answers.
std::string request_id_of(std::string_view text) {
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec);
  if (ec || !value.is_object()) return {};
  const auto* req = value.as_object().if_contains("req");
  if (!req || !req->is_string() || req->get_string().empty() || req->get_string().size() > 64) return {};
  return std::string(req->get_string());
}

}  // namespace

void websocket_session::handle_text(std::string_view text) {
  // Rate limit: more than 100 requests in one second are refused, not processed.
  const std::int64_t now_ms = steady_now_us() / 1000;
  if (now_ms - rate_window_start_ms_ >= 1000) {
    rate_window_start_ms_ = now_ms;
    requests_in_window_ = 0;
  }
  if (++requests_in_window_ > max_requests_per_second) {
    // The request was well-formed, just early: its `req` lets the client retry it, and it does
    // not count as an invalid request. `req` is looked for only in frames small enough to be
    // requests, so a flood of large frames costs no parsing.
    constexpr std::size_t max_request_bytes = 4096;
    send_refusal(text.size() <= max_request_bytes ? request_id_of(text) : std::string(), "rate_limited",
                 "more than 100 requests per second; retry after a second");
    return;
  }

  auto decoded = core::codec::decode_client(text);
  if (!decoded) {
    send_error(request_id_of(text), decoded.err().code, decoded.err().message);
    return;
  }
  auto& frame = decoded.value();

  if (!grant_) {
    if (auto* auth = std::get_if<core::auth_frame>(&frame)) {
      authenticate(auth->token);
    } else {
      std::string req;
      std::visit([&](const auto& f) {
        if constexpr (requires { f.req; }) req = f.req;
      }, frame);
      send_error(req, "auth_required", "send an auth frame first");
    }
    return;
  }

  std::visit(
      [&](const auto& f) {
        using T = std::decay_t<decltype(f)>;
        if constexpr (std::is_same_v<T, core::auth_frame>) {
          send_error("", "already_authenticated", "this connection is authenticated; use refresh");
        } else if constexpr (std::is_same_v<T, core::subscribe_frame>) {
          subscribe(f);
        } else if constexpr (std::is_same_v<T, core::unsubscribe_frame>) {
          unsubscribe(f);
        } else if constexpr (std::is_same_v<T, core::refresh_frame>) {
          refresh(f);
        } else if constexpr (std::is_same_v<T, core::ping_frame>) {
          send(core::pong_frame{f.req, unix_now_ms()});
        }
      },
      frame);
}

// ---- authentication --------------------------------------------------------------------------

void websocket_session::authenticate(const std::string& token) {
  auto verified = state_.tokens_verifier->verify(token, unix_now_s());
  if (!verified) {
    logger::info("auth_failed", {{"conn", id_}, {"reason", verified.err().message}});
    close_connection(4401, "invalid token");
    return;
  }
  if (!state_.limits.acquire_tenant(verified->tenant)) {
    close_connection(4029, "too many connections for the tenant");
    return;
  }
  tenant_slot_ = true;
  grant_.emplace(std::move(verified.value()));
  on_authenticated();
}

void websocket_session::on_authenticated() {
  if (grant_->perms.empty()) {
    close_connection(4403, "the token permits no topic");
    return;
  }
  last_ping_sent_ms_ = steady_now_us() / 1000;
  // Never null: before the first event `{epoch}-0` names the position ahead of it.
  const core::event_id head = state_.fan_out->head();
  send(core::ready_frame{grant_->sub, grant_->tenant, grant_->exp, state_.config.heartbeat_ms, head.str(),
                        unix_now_ms()});
  logger::info("authenticated", {{"conn", id_}, {"sub", grant_->sub}, {"tenant", grant_->tenant}});
}

void websocket_session::refresh(const core::refresh_frame& frame) {
  auto verified = state_.tokens_verifier->verify(frame.token, unix_now_s());
  if (!verified) {
    send_error(frame.req, "invalid_token", verified.err().message);
    return;
  }
  if (verified->sub != grant_->sub || verified->tenant != grant_->tenant) {
    send_error(frame.req, "invalid_token", "the new token has another sub or tenant");
    return;
  }
  grant_.emplace(std::move(verified.value()));
  expiring_sent_ = false;
  send(core::refreshed_frame{frame.req, grant_->exp});

  // The new permissions apply at once.
  std::vector<std::string> revoked;
  for (const auto& pattern : patterns_)
    if (!permitted(pattern)) revoked.push_back(pattern);
  if (revoked.empty()) return;
  state_.fan_out->unsubscribe(grant_->tenant, id_, revoked);
  auto is_revoked = [&](const std::string& p) { return std::find(revoked.begin(), revoked.end(), p) != revoked.end(); };
  std::erase_if(patterns_, is_revoked);
  if (replay_) {
    // The rest of the replay too: what waits in the current chunk, the chunks still to come,
    // and the live events held until the replay ends.
    auto no_longer_matched = [this](const log::stored_event_ptr& event) {
      return std::none_of(patterns_.begin(), patterns_.end(),
                          [&](const std::string& p) { return core::topic::matches(p, event->topic); });
    };
    std::erase_if(*replay_->patterns, is_revoked);
    auto unsent = replay_->chunk.begin() + static_cast<std::ptrdiff_t>(replay_->next_in_chunk);
    replay_->chunk.erase(std::remove_if(unsent, replay_->chunk.end(), no_longer_matched), replay_->chunk.end());
    std::lock_guard lock(held_->mutex);  // held_ exists with every replay
    std::erase_if(held_->events, no_longer_matched);
    held_->bytes = 0;
    for (const auto& event : held_->events) held_->bytes += event->websocket_frame.size();
  }
  state_.stats.subscriptions.fetch_sub(static_cast<std::int64_t>(revoked.size()), std::memory_order_relaxed);
  send(core::unsubscribed_frame{"", std::move(revoked), "permission_revoked"});
}

bool websocket_session::permitted(std::string_view pattern) const {
  return std::any_of(grant_->perms.begin(), grant_->perms.end(),
                     [&](const std::string& perm) { return core::topic::contains(perm, pattern); });
}

// ---- subscriptions ---------------------------------------------------------------------------

// Seq 0 before the first event: a client that has received nothing resumes from there.
std::optional<std::string> websocket_session::head_id(const log::log_bounds& bounds) const {
  return core::event_id{bounds.epoch, bounds.head_seq}.str();
}

void websocket_session::subscribe(const core::subscribe_frame& frame) {
  if (waiting_subscribe_) {  // frames are answered in order: the waiting one first, as it stands
    resume_waits_ = max_resume_waits;
    const core::subscribe_frame waiting = std::move(*waiting_subscribe_);
    waiting_subscribe_.reset();
    subscribe(waiting);
  }
  if (frame.topics.empty() || frame.topics.size() > max_patterns_per_subscribe) {
    send_error(frame.req, "bad_frame", "'topics' must hold 1 to 64 patterns");
    return;
  }
  std::vector<std::string> added;
  for (const auto& topic : frame.topics) {
    if (auto err = core::topic::validate_pattern(topic)) {
      send_error(frame.req, "invalid_topic", err->message, topic);
      return;
    }
    if (!permitted(topic)) {
      send_error(frame.req, "forbidden_topic", "the token does not permit '" + topic + "'", topic);
      return;
    }
    if (std::find(patterns_.begin(), patterns_.end(), topic) == patterns_.end() &&
        std::find(added.begin(), added.end(), topic) == added.end())
      added.push_back(topic);
  }

  // The resume position: `from`, else the handshake's Last-Event-ID (once, for the first
  // subscribe). One id stands for all subscriptions, so it needs a connection that holds none
  // and is not replaying.
  std::optional<std::string> from = frame.from;
  std::string_view from_source = "'from'";
  if (!from && patterns_.empty() && !last_event_id_header_.empty()) {
    from = last_event_id_header_;
    from_source = "the Last-Event-ID header";
  }
  if (from) {
    if (!patterns_.empty() || replay_) {
      send_error(frame.req, "resume_not_allowed", "'from' is allowed only while the connection holds no subscriptions");
      return;
    }
    if (!core::event_id::parse(*from)) {
      last_event_id_header_.clear();
      send_error(frame.req, "invalid_event_id", std::string(from_source) + " is not an event id");
      return;
    }
  }
  if (patterns_.size() + added.size() > max_patterns_per_connection) {
    send_error(frame.req, "too_many_subscriptions", "at most 256 patterns per connection");
    return;
  }
  if (from && resume_waits_ < max_resume_waits) {
    const core::event_id position = *core::event_id::parse(*from);
    const core::event_id head = state_.fan_out->head();
    if (position.epoch == head.epoch && position.seq > head.seq && position.seq <= state_.log->newest_known_seq()) {
      ++resume_waits_;
      waiting_subscribe_ = std::make_unique<core::subscribe_frame>(frame);
      waiting_subscribe_->from = from;
      return;
    }
  }
  last_event_id_header_.clear();
  if (frame.conflate && !conflate_) {  // sticky for the connection's life (section 7.1)
    conflate_ = true;
    queue_.conflate_gauges();
    keep_send_buffer_small();
  }

  log::resume_plan plan;
  bool send_the_snapshot = false;  // no from, or a from answered by reset (section 5.3)
  bool held_for_snapshot = false;
  std::vector<log::stored_event_ptr> snapshot;
  state_.fan_out->subscribe(grant_->tenant, id_, *this, added, [&](const log::log_bounds& bounds) {
    // Under the hub lock: nothing can be fanned out between this and the patterns' addition,
    // so `subscribed` precedes every event of the new patterns, and the replay below covers
    // exactly what was stored before them, as the snapshot holds exactly the latest events
    // up to the head (section 5.3).
    send(core::subscribed_frame{frame.req, frame.topics, head_id(bounds)});
    if (from) plan = log::plan_resume(*from, bounds);
    send_the_snapshot = frame.snapshot && (!from || plan.needs_reset());
    if (send_the_snapshot) {
      // The snapshot instead of any replay: delivery continues after the head.
      if (from) send(core::reset_frame{std::string(plan.reset_reason()), *from, *head_id(bounds)});
      state_.fan_out->latest_in_step(grant_->tenant, frame.topics, bounds, snapshot);
      // Its frames are made after the lock (fan-out to everyone else waits for none of it);
      // meanwhile this connection's live events wait, as during a replay. A replay already
      // running holds them anyway, until after its own end.
      if (replaying_.load(std::memory_order_acquire)) return;
      held_for_snapshot = true;
    } else if (!from) {
      return;
    }
    if (!held_) held_ = std::make_unique<held_live>();
    std::lock_guard lock(held_->mutex);
    replaying_.store(true, std::memory_order_release);
    held_->up_to_seq = send_the_snapshot ? bounds.head_seq : plan.up_to_seq;
    if (!send_the_snapshot && plan.needs_reset())
      send(core::reset_frame{std::string(plan.reset_reason()), *from, plan.position});
  });
  patterns_.insert(patterns_.end(), added.begin(), added.end());
  state_.stats.subscriptions.fetch_add(static_cast<std::int64_t>(added.size()), std::memory_order_relaxed);
  if (send_the_snapshot) {
    send_snapshot(frame.req, snapshot);
    if (from) send(core::replayed_frame{frame.req, 0});
    if (held_for_snapshot) send_held_live();
    return;
  }
  if (!from) return;

  replay_ = std::make_unique<replay_job>();
  replay_->req = frame.req;
  replay_->patterns = std::make_shared<std::vector<std::string>>(patterns_);
  replay_->cursor = std::make_unique<log::replay_cursor>(
      *state_.log, plan.after_seq, plan.up_to_seq, grant_->tenant,
      [patterns = replay_->patterns](std::string_view topic) {
        return std::any_of(patterns->begin(), patterns->end(),
                           [&](const std::string& p) { return core::topic::matches(p, topic); });
      });
  replay_step();
}

// The kernel grows a socket's send buffer up to megabytes (net.ipv4.tcp_wmem) on a fast link,
// and a frame there can no longer be conflated: a lagging wallboard would be shown seconds-old
// values from it however well its queue conflates. A conflating connection fixes its buffer at
// conflating_send_buffer_bytes (the kernel doubles it), so its backlog waits in the queue. That
// bounds its throughput to about twice the buffer per round trip (640 KB/s at 100 ms): plenty for a
// wallboard, and the reason it is not done for every connection.
void websocket_session::keep_send_buffer_small() {
  const int fd = stream_.is_tls() ? stream_.tcp().socket().native_handle() : stream_.polled_fd();
  if (fd < 0) return;
  const int bytes = conflating_send_buffer_bytes;
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);  // best effort: conflation works without it
}

// The snapshot taken in the subscribe step (the latest event of every topic the frame's
// patterns match, all permitted: checked before), each as the stored frame with "snapshot":true
// spliced in, then `snapshotted`. The live events after the head are held until it is queued.
void websocket_session::send_snapshot(const std::string& req, const std::vector<log::stored_event_ptr>& latest) {
  const std::int64_t now_us = steady_now_us();
  bool start_writer = false;
  for (const auto& event : latest)
    start_writer = queue_.push(outbound_frame::of_frame(log::snapshot_frame(*event), now_us)).result ==
                       outbound_queue::push_result::start_writer ||
                   start_writer;
  if (start_writer) schedule_write();
  state_.stats.snapshot_events.fetch_add(latest.size(), std::memory_order_relaxed);
  send(core::snapshotted_frame{req, latest.size()});
}

websocket_session::replay_job::replay_job() { replays_in_progress.fetch_add(1, std::memory_order_relaxed); }
websocket_session::replay_job::~replay_job() { replays_in_progress.fetch_sub(1, std::memory_order_relaxed); }

void websocket_session::replay_step() {
  if (!replay_ || close_sent_ || socket_closed_) return;
  // What does not fit waits in replay_->chunk; batch_written() calls again once the writer
  // sent what this step queued.
  const std::size_t sharers =
      std::clamp<std::size_t>(replays_in_progress.load(std::memory_order_relaxed), 1, replay_share_divisor_max);
  const std::size_t fill_limit = std::min(replay_step_bytes / sharers, state_.config.max_queue_bytes / 2);
  const std::size_t examine_limit = replay_step_events / sharers;
  std::size_t queued = queue_.queued_bytes();
  const std::uint64_t step_start = replay_->cursor->position();
  const std::int64_t now_us = steady_now_us();
  for (;;) {
    auto& chunk = replay_->chunk;
    if (replay_->next_in_chunk < chunk.size()) {
      // The events that fit, at least one, queued under one lock.
      const std::size_t first = replay_->next_in_chunk;
      std::size_t end = first;
      do queued += chunk[end++]->websocket_frame.size();
      while (end < chunk.size() && queued + chunk[end]->websocket_frame.size() <= fill_limit);
      const event_run run(chunk.data() + first, end - first);
      send_events(std::span<const event_run>(&run, 1), now_us, false);  // replayed: never conflated
      replay_->next_in_chunk = end;
      replay_->count += run.size();
      state_.stats.replayed.fetch_add(run.size(), std::memory_order_relaxed);
      if (end < chunk.size() || queued >= fill_limit) {
        replay_waiting_for_writes_ = true;
        return;
      }
    }
    if (replay_->cursor_done) {
      finish_replay();
      return;
    }
    if (replay_->cursor->position() - step_start >= examine_limit) break;
    chunk.clear();
    replay_->next_in_chunk = 0;
    replay_->cursor_done = !replay_->cursor->next(chunk, replay_chunk_events, replay_chunk_bytes);
    if (replay_->cursor->lost_events()) {
      // Retention overtook the replay: like an overflow, the client resumes from what it has.
      overflow(0);
      return;
    }
  }
  // A step's worth examined without filling the queue: continue in a later turn, so the
  // connection's other work (and other connections) interleave.
  boost::asio::post(stream_.get_executor(), [self = shared_from_this()] { self->replay_step(); });
}

void websocket_session::finish_replay() {
  send(core::replayed_frame{replay_->req, replay_->count});
  replay_.reset();
  send_held_live();
}

void websocket_session::send_held_live() {
  // Live events held during a replay or a snapshot follow it, in order, under the same lock
  // that deliver_live takes, so none can overtake them.
  std::lock_guard lock(held_->mutex);
  const std::int64_t now_us = steady_now_us();
  for (const auto& event : held_->events) send_event(event, now_us);
  held_->events.clear();
  held_->events.shrink_to_fit();
  held_->bytes = 0;
  replaying_.store(false, std::memory_order_release);
}

void websocket_session::unsubscribe(const core::unsubscribe_frame& frame) {
  if (frame.topics.empty() || frame.topics.size() > max_patterns_per_subscribe) {
    send_error(frame.req, "bad_frame", "'topics' must hold 1 to 64 patterns");
    return;
  }
  for (const auto& topic : frame.topics) {
    if (std::find(patterns_.begin(), patterns_.end(), topic) == patterns_.end()) {
      send_error(frame.req, "not_subscribed", "this connection does not hold '" + topic + "'", topic);
      return;
    }
  }
  std::vector<std::string> removed;
  for (const auto& topic : frame.topics)
    if (std::find(removed.begin(), removed.end(), topic) == removed.end()) removed.push_back(topic);
  state_.fan_out->unsubscribe(grant_->tenant, id_, removed);
  std::erase_if(patterns_, [&](const std::string& p) { return std::find(removed.begin(), removed.end(), p) != removed.end(); });
  state_.stats.subscriptions.fetch_sub(static_cast<std::int64_t>(removed.size()), std::memory_order_relaxed);
  send(core::unsubscribed_frame{frame.req, frame.topics, "requested"});
}

}  // namespace globemeet::server::net
