#include "load_generator.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "json_line.hpp"
#include "process_sampler.hpp"

namespace bench {

namespace {

constexpr double kNsPerSecond = 1e9;
constexpr std::size_t kMaxPublisherBacklog = 8u << 20;  // beyond this the publisher skips events
constexpr int kSlowReceiveBuffer = 16 * 1024;          // slow consumers' SO_RCVBUF (fills quickly)

double ms(std::uint64_t ns) { return static_cast<double>(ns) / 1e6; }

double seconds_between(std::uint64_t from, std::uint64_t to) {
  return static_cast<double>(to - from) / kNsPerSecond;
}

// The number after `name ` at the start of a line of Prometheus text, or 0.
std::uint64_t prometheus_value(std::string_view text, std::string_view name) {
  std::size_t pos = 0;
  while ((pos = text.find(name, pos)) != std::string_view::npos) {
    const bool line_start = pos == 0 || text[pos - 1] == '\n';
    const std::size_t after = pos + name.size();
    if (line_start && after < text.size() && text[after] == ' ') {
      return static_cast<std::uint64_t>(std::strtod(std::string(text.substr(after + 1, 32)).c_str(), nullptr));
    }
    pos = after;
  }
  return 0;
}


}  // namespace

LoadGenerator::LoadGenerator(Options options) : options_(std::move(options)), scratch_(256 * 1024) {
  layout_.topics = options_.topics;
  layout_.wildcard = options_.wildcard;
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  // Connections are held by reference while the loop runs: never reallocate under it.
  connections_.reserve(static_cast<std::size_t>(options_.connections) + 8);
}

LoadGenerator::~LoadGenerator() {
  for (auto& c : connections_) {
    if (c.fd < 0) continue;
    // Reset instead of FIN: thousands of TIME_WAIT sockets per run would exhaust loopback ports.
    linger abort{1, 0};
    setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
    ::close(c.fd);
  }
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

std::uint32_t LoadGenerator::next_mask() {
  mask_state_ ^= mask_state_ << 13;
  mask_state_ ^= mask_state_ >> 17;
  mask_state_ ^= mask_state_ << 5;
  return mask_state_;
}

int LoadGenerator::run() {
  if (epoll_fd_ < 0) { std::perror("loadgen: epoll_create1"); return 1; }
  switch (options_.mode) {
    case Mode::fanout: return run_fanout();
    case Mode::idle: return run_idle();
    case Mode::slow: return run_slow();
    case Mode::resume: return run_resume();
  }
  return 1;
}

// ---------------------------------------------------------------------------------------------
// Connections and the loop

int LoadGenerator::open_connection(Role role, int index) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) { std::perror("loadgen: socket"); return -1; }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const bool slow_candidate = options_.mode == Mode::slow && role == Role::subscriber &&
      options_.slow_fraction > 0 && index % static_cast<int>(std::lround(1.0 / options_.slow_fraction)) == 1;
  if (slow_candidate) {
    int size = kSlowReceiveBuffer;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(options_.port));
  inet_pton(AF_INET, options_.host.c_str(), &addr.sin_addr);
  const int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (rc < 0 && errno != EINPROGRESS) { std::perror("loadgen: connect"); ::close(fd); return -1; }
  const int id = static_cast<int>(connections_.size());
  Connection& c = connections_.emplace_back();
  c.fd = fd;
  c.role = role;
  c.index = index;
  c.http = (role == Role::publisher || role == Role::metrics) && options_.target == Target::globemeet;
  c.measured = role == Role::subscriber && !slow_candidate;
  c.slow = slow_candidate;
  c.want_write = true;
  epoll_event ev{};
  ev.events = EPOLLOUT | EPOLLRDHUP;
  ev.data.u32 = static_cast<std::uint32_t>(id);
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  return id;
}

bool LoadGenerator::connect_subscribers(double& seconds) {
  const std::uint64_t start = monotonic_ns();
  for (int i = 0; i < options_.connections; ++i) {
    const int id = open_connection(Role::subscriber, i);
    if (id < 0) { ++failed_; continue; }
    subscriber_ids_.push_back(id);
    // Accept what connected so far now and then, so a storm of thousands does not sit unanswered.
    if (i % 256 == 255) poll_once(0);
  }
  publisher_id_ = open_connection(Role::publisher, 0);
  const bool ok = run_until([&] { return subscribed_ + failed_ >= options_.connections && publisher_ready_; },
                            options_.connect_timeout_seconds);
  seconds = seconds_between(start, monotonic_ns());
  count_receivers();
  return ok;
}

void LoadGenerator::count_receivers() {
  receivers_.assign(static_cast<std::size_t>(options_.topics), 0);
  for (int id : subscriber_ids_) {
    const Connection& c = connections_[static_cast<std::size_t>(id)];
    if (!c.measured || c.phase != Phase::live) continue;
    for (int k = 0; k < options_.topics; ++k) {
      if (layout_.receives(c.index, k)) ++receivers_[static_cast<std::size_t>(k)];
    }
  }
}

bool LoadGenerator::run_until(const std::function<bool()>& done, double timeout_seconds) {
  const std::uint64_t deadline = monotonic_ns() + static_cast<std::uint64_t>(timeout_seconds * kNsPerSecond);
  while (true) {
    if (done()) return true;
    std::uint64_t now = monotonic_ns();
    if (now >= deadline) return false;
    // Block at most a millisecond while publishing (pacing), 5 ms otherwise.
    poll_once(publishing_ ? 1 : 5);
    now = monotonic_ns();
    publish_due(now);
    poll_metrics(now);
  }
}

void LoadGenerator::poll_once(int timeout_ms) {
  epoll_event events[512];
  const int n = epoll_wait(epoll_fd_, events, 512, timeout_ms);
  for (int i = 0; i < n; ++i) {
    on_event(connections_[events[i].data.u32], events[i].events);
  }
}

void LoadGenerator::on_event(Connection& c, std::uint32_t events) {
  if (c.phase == Phase::closed) return;
  if (!c.reading && (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) != 0) {
    // A consumer that stopped reading learns of its drop only from the reset or FIN.
    c.dropped_at_ns = monotonic_ns();
    close_connection(c);
    return;
  }
  if (c.phase == Phase::connecting) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      if (c.role == Role::subscriber) ++failed_;
      if (first_error_.empty()) first_error_ = std::string("connect: ") + std::strerror(err);
      close_connection(c);
      return;
    }
    on_connected(c);
    return;
  }
  if ((events & EPOLLOUT) != 0) flush(c);
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) != 0 && c.reading) {
    for (int round = 0; round < 4 && c.phase != Phase::closed; ++round) {
      const ssize_t n = ::recv(c.fd, scratch_.data(), scratch_.size(), 0);
      if (n > 0) {
        // Every message of one read arrived together: one clock read per read, not per message.
        received_at_ns_ = monotonic_ns();
        on_bytes(c, std::string_view(scratch_.data(), static_cast<std::size_t>(n)));
        if (static_cast<std::size_t>(n) < scratch_.size()) break;
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n < 0 && errno == EINTR) continue;
      c.dropped_at_ns = monotonic_ns();
      close_connection(c);
      break;
    }
  }
}

void LoadGenerator::on_connected(Connection& c) {
  c.phase = Phase::upgrading;
  if (c.http) {
    c.phase = Phase::live;
    if (c.role == Role::publisher) publisher_ready_ = true;
    update_interest(c);
    return;
  }
  std::string host = options_.host + ":" + std::to_string(options_.port);
  c.out.append(ws::upgrade_request(host, websocket_path(options_.target),
                                   handshake_headers(options_.target, options_.token)));
  flush(c);
}

void LoadGenerator::on_bytes(Connection& c, std::string_view data) {
  if (c.http) {
    c.in.append(data);
    on_http(c);
    return;
  }
  if (c.phase == Phase::upgrading) {
    c.in.append(data);
    const std::size_t end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) return;
    if (c.in.compare(0, 12, "HTTP/1.1 101") != 0) {
      if (first_error_.empty()) first_error_ = "handshake: " + c.in.substr(0, std::min<std::size_t>(c.in.size(), 300));
      if (c.role == Role::subscriber) ++failed_;
      close_connection(c);
      return;
    }
    c.in.erase(0, end + 4);
    c.phase = Phase::subscribing;
    if (c.role == Role::publisher) {
      const std::string hello = publisher_hello(options_.target);
      if (hello.empty()) { c.phase = Phase::live; publisher_ready_ = true; }
      else send_message(c, hello);
    } else if (c.role == Role::subscriber) {
      const bool everything = c.slow && options_.slow_subscribe_all;
      send_message(c, subscribe_payload(options_.target, everything ? layout_.every_topic(options_.target)
                                                                    : layout_.subscriptions(options_.target, c.index)));
    } else if (c.role == Role::resumer) {
      send_message(c, subscribe_payload(options_.target, {">"}, resume_from_));
      resumer_subscribed_ns_ = monotonic_ns();
    }
    on_frames(c);
    return;
  }
  if (c.in.empty()) {
    // Parse straight from the receive buffer; keep only an incomplete tail.
    c.in.assign(data);
  } else {
    c.in.append(data);
  }
  on_frames(c);
}

void LoadGenerator::on_frames(Connection& c) {
  std::size_t pos = 0;
  while (c.phase != Phase::closed) {
    ws::ServerFrame frame;
    const auto result = ws::parse_server_frame(std::string_view(c.in).substr(pos), frame);
    if (result == ws::ParseResult::need_more) break;
    if (result == ws::ParseResult::protocol_error) {
      if (first_error_.empty()) first_error_ = "websocket protocol error";
      close_connection(c);
      return;
    }
    std::string_view payload(c.in.data() + pos + frame.header_bytes, frame.payload_bytes);
    pos += frame.header_bytes + frame.payload_bytes;
    switch (frame.opcode) {
      case ws::Opcode::ping: {
        ws::append_client_frame(c.out, ws::Opcode::pong, payload, next_mask());
        flush(c);
        break;
      }
      case ws::Opcode::pong: break;
      case ws::Opcode::close:
        if (payload.size() >= 2) {
          c.close_code = (static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]);
        }
        c.dropped_at_ns = monotonic_ns();
        close_connection(c);
        return;
      case ws::Opcode::continuation:
        c.fragments.append(payload);
        if (frame.fin) {
          std::string whole;
          whole.swap(c.fragments);
          on_message(c, whole);
        }
        break;
      case ws::Opcode::text:
      case ws::Opcode::binary:
        if (options_.target == Target::nats) {
          // NATS treats frames as a byte stream: messages may span or share frames.
          on_message(c, payload);
        } else if (!frame.fin) {
          c.fragments.assign(payload);
        } else {
          on_message(c, payload);
        }
        break;
    }
  }
  if (c.phase != Phase::closed) c.in.erase(0, pos);
}

void LoadGenerator::on_message(Connection& c, std::string_view message) {
  if (options_.target == Target::nats) {
    NatsStream::Handlers handlers;
    handlers.on_msg = [&](std::string_view payload) { on_delivery(c, payload); };
    handlers.on_pong = [&] {
      if (c.phase != Phase::subscribing) return;
      if (c.role == Role::publisher) { c.phase = Phase::live; publisher_ready_ = true; }
      else on_subscribed(c);
    };
    handlers.on_ping = [&] {
      ws::append_client_frame(c.out, ws::Opcode::text, "PONG\r\n", next_mask());
      flush(c);
    };
    handlers.on_error = [&](std::string_view line) {
      ++errors_;
      if (first_error_.empty()) first_error_ = std::string(line);
    };
    c.nats.feed(message, handlers);
    return;
  }
  switch (classify_message(options_.target, message)) {
    case MessageKind::delivery: on_delivery(c, message); break;
    case MessageKind::subscribed: on_subscribed(c); break;
    case MessageKind::replayed:
      if (c.role == Role::resumer) {
        replayed_at_ns_ = monotonic_ns();
        const auto at = message.find("\"count\":");
        replayed_count_ = at == std::string_view::npos ? 0 : std::atoll(std::string(message.substr(at + 8, 24)).c_str());
      }
      break;
    case MessageKind::overflow: ++overflows_; break;
    case MessageKind::error:
      ++errors_;
      if (first_error_.empty()) first_error_ = std::string(message.substr(0, 300));
      break;
    case MessageKind::other: break;
  }
}

void LoadGenerator::on_subscribed(Connection& c) {
  if (c.phase != Phase::subscribing) return;
  c.phase = Phase::live;
  if (c.role == Role::subscriber) ++subscribed_;
}

void LoadGenerator::on_delivery(Connection& c, std::string_view message) {
  if (c.role == Role::resumer) { ++resumer_events_; return; }
  if (!c.measured) return;
  const std::uint64_t sent = find_send_ns(message);
  if (sent == 0) return;
  const std::uint64_t now = received_at_ns_;
  for (Window* w : windows_) {
    if (sent >= w->start_ns && sent < w->end_ns) {
      ++w->delivered;
      w->latency.record(now > sent ? now - sent : 0);
    }
  }
}

void LoadGenerator::on_http(Connection& c) {
  while (true) {
    const std::size_t end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) return;
    int status = 0;
    if (c.in.size() > 12) status = std::atoi(c.in.c_str() + 9);
    std::size_t length = 0;
    for (std::size_t line = c.in.find("\r\n"); line < end; line = c.in.find("\r\n", line + 2)) {
      if (strncasecmp(c.in.c_str() + line + 2, "content-length:", 15) == 0) {
        length = static_cast<std::size_t>(std::strtoull(c.in.c_str() + line + 17, nullptr, 10));
      }
    }
    if (c.in.size() < end + 4 + length) return;
    const std::string body = c.in.substr(end + 4, length);
    c.in.erase(0, end + 4 + length);
    on_http_response(c, status, body);
  }
}

void LoadGenerator::on_http_response(Connection& c, int status, std::string_view body) {
  if (c.role == Role::metrics) {
    metrics_in_flight_ = false;
    overflow_closes_ = prometheus_value(body, "globemeet_overflow_closes_total");
    const std::uint64_t now = monotonic_ns();
    if (overflow_closes_ > 0 && first_overflow_close_ns_ == 0) first_overflow_close_ns_ = now;
    if (slow_count_ > 0 && overflow_closes_ >= static_cast<std::uint64_t>(slow_count_) && all_overflow_closed_ns_ == 0) {
      all_overflow_closed_ns_ = now;
    }
    return;
  }
  http_in_flight_ = false;
  if (status != 200) {
    ++publish_errors_;
    if (first_error_.empty()) first_error_ = "publish " + std::to_string(status) + ": " + std::string(body.substr(0, 300));
    return;
  }
  const auto at = body.find("\"ids\":[\"");
  if (at != std::string_view::npos) {
    const auto stop = body.find('"', at + 8);
    last_first_id_ = std::string(body.substr(at + 8, stop - at - 8));
  }
}

void LoadGenerator::send_message(Connection& c, std::string_view payload) {
  ws::append_client_frame(c.out, ws::Opcode::text, payload, next_mask());
  flush(c);
}

void LoadGenerator::flush(Connection& c) {
  while (!c.out.empty()) {
    const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n > 0) { c.out.erase(0, static_cast<std::size_t>(n)); continue; }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    c.dropped_at_ns = monotonic_ns();
    close_connection(c);
    return;
  }
  update_interest(c);
}

void LoadGenerator::update_interest(Connection& c, bool force) {
  if (c.phase == Phase::closed) return;
  const bool want_write = !c.out.empty();
  if (!force && c.phase != Phase::connecting && want_write == c.want_write && c.reading) return;
  c.want_write = want_write;
  epoll_event ev{};
  ev.events = (c.reading ? EPOLLIN : 0u) | (want_write ? EPOLLOUT : 0u) | EPOLLRDHUP;
  ev.data.u32 = static_cast<std::uint32_t>(&c - connections_.data());
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void LoadGenerator::stop_reading(Connection& c) {
  if (c.phase == Phase::closed) return;
  c.reading = false;
  c.measured = false;
  epoll_event ev{};
  ev.events = EPOLLRDHUP | (c.out.empty() ? 0u : EPOLLOUT);
  ev.data.u32 = static_cast<std::uint32_t>(&c - connections_.data());
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void LoadGenerator::close_connection(Connection& c) {
  if (c.phase == Phase::closed) return;
  if (c.role == Role::subscriber && (c.phase == Phase::live)) ++closed_subscribers_;
  if (c.role == Role::publisher) { publisher_ready_ = false; if (first_error_.empty()) first_error_ = "publisher connection closed"; }
  c.phase = Phase::closed;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
  linger abort{1, 0};
  setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  ::close(c.fd);
  c.fd = -1;
  c.in.clear();
  c.out.clear();
}

// ---------------------------------------------------------------------------------------------
// Publishing

void LoadGenerator::start_publishing(double events_per_second, int first_topic, int topic_count) {
  publishing_ = true;
  rate_ = events_per_second;
  publish_start_ns_ = monotonic_ns();
  generated_ = 0;
  publish_topic_first_ = first_topic;
  publish_topic_count_ = topic_count > 0 ? topic_count : options_.topics;
}

void LoadGenerator::stop_publishing() { publishing_ = false; }

void LoadGenerator::publish_due(std::uint64_t now) {
  if (!publishing_ || publisher_id_ < 0) return;
  const auto target = static_cast<std::uint64_t>(seconds_between(publish_start_ns_, now) * rate_);
  if (target <= generated_) return;
  std::uint64_t due = target - generated_;
  // A generator descheduled for a moment catches up with a burst (each event still carries its
  // own send time); what is more than 250 ms late is skipped and shows as a publish shortfall.
  const auto burst = static_cast<std::uint64_t>(rate_ * 0.25) + 1;
  if (due > burst) { skipped_ += due - burst; generated_ += due - burst; due = burst; }
  Connection& p = connections_[static_cast<std::size_t>(publisher_id_)];
  if (p.phase != Phase::live || p.out.size() > kMaxPublisherBacklog) { skipped_ += due; generated_ += due; return; }
  if (options_.target == Target::globemeet && http_in_flight_) return;  // the next batch carries them
  generated_ += due;
  publish_batch(now, due);
}

void LoadGenerator::publish_batch(std::uint64_t now, std::uint64_t count) {
  Connection& p = connections_[static_cast<std::size_t>(publisher_id_)];
  auto next_topic = [&] {
    return publish_topic_first_ + static_cast<int>(publish_counter_++ % static_cast<std::uint64_t>(publish_topic_count_));
  };
  auto account = [&](int topic) {
    ++sent_total_;
    for (Window* w : windows_) {
      if (now >= w->start_ns && now < w->end_ns) {
        ++w->published;
        if (topic < options_.topics) w->expected += receivers_[static_cast<std::size_t>(topic)];
      }
    }
  };
  switch (options_.target) {
    case Target::globemeet: {
      // One POST per batch; a 1 MiB body limit and 1000 events per request bound it.
      const std::uint64_t per_request = std::min<std::uint64_t>(1000, 900000u / static_cast<unsigned>(options_.payload_bytes + 80));
      if (count > per_request) { skipped_ += count - per_request; count = per_request; }
      std::string body = "{\"events\":[";
      for (std::uint64_t i = 0; i < count; ++i) {
        const int topic = next_topic();
        if (i > 0) body.push_back(',');
        append_globemeet_event(body, topic, event_data(topic, now, options_.payload_bytes));
        account(topic);
      }
      body.append("]}");
      p.out.append(globemeet_publish_request(options_.host, options_.publish_token, body));
      http_in_flight_ = true;
      break;
    }
    case Target::nats: {
      std::string stream;
      for (std::uint64_t i = 0; i < count; ++i) {
        const int topic = next_topic();
        append_nats_publish(stream, topic_name(topic), event_data(topic, now, options_.payload_bytes));
        account(topic);
      }
      ws::append_client_frame(p.out, ws::Opcode::text, stream, next_mask());
      break;
    }
    case Target::bun:
    case Target::ws:
      for (std::uint64_t i = 0; i < count; ++i) {
        const int topic = next_topic();
        ws::append_client_frame(p.out, ws::Opcode::text,
                                peer_publish_message(topic_name(topic), event_data(topic, now, options_.payload_bytes)),
                                next_mask());
        account(topic);
      }
      break;
  }
  flush(p);
}

bool LoadGenerator::post_events(int topic, int count) {
  Connection& p = connections_[static_cast<std::size_t>(publisher_id_)];
  std::string body = "{\"events\":[";
  const std::uint64_t now = monotonic_ns();
  for (int i = 0; i < count; ++i) {
    if (i > 0) body.push_back(',');
    append_globemeet_event(body, topic, event_data(topic, now, options_.payload_bytes));
  }
  body.append("]}");
  p.out.append(globemeet_publish_request(options_.host, options_.publish_token, body));
  http_in_flight_ = true;
  const std::uint64_t errors_before = publish_errors_;
  flush(p);
  return run_until([&] { return !http_in_flight_; }, 30) && publish_errors_ == errors_before;
}

void LoadGenerator::poll_metrics(std::uint64_t now) {
  if (metrics_id_ < 0 || metrics_in_flight_ || now < next_metrics_ns_) return;
  Connection& m = connections_[static_cast<std::size_t>(metrics_id_)];
  if (m.phase != Phase::live) return;
  next_metrics_ns_ = now + 200'000'000;
  m.out.append("GET /metrics HTTP/1.1\r\nHost: " + options_.host + "\r\n\r\n");
  metrics_in_flight_ = true;
  flush(m);
}

// ---------------------------------------------------------------------------------------------
// Modes

namespace {

struct CpuWindow {
  ProcessSample server_before, server_after;
  double own_before = 0, own_after = 0;
  std::uint64_t start = 0, end = 0;
  void begin(pid_t pid) { server_before = sample_process(pid); own_before = own_cpu_seconds(); start = monotonic_ns(); }
  void finish(pid_t pid) { server_after = sample_process(pid); own_after = own_cpu_seconds(); end = monotonic_ns(); }
  double seconds() const { return seconds_between(start, end); }
  double server_pct() const {
    return server_before.valid && server_after.valid ? 100.0 * (server_after.cpu_seconds - server_before.cpu_seconds) / seconds() : NAN;
  }
  double own_pct() const { return 100.0 * (own_after - own_before) / seconds(); }
};

}  // namespace

int LoadGenerator::run_fanout() {
  double connect_seconds = 0;
  const bool connected = connect_subscribers(connect_seconds);
  if (!connected || subscribed_ == 0) {
    JsonLine line;
    line.add("target", target_name(options_.target)).add("mode", "fanout").add("label", options_.label)
        .add("connections", options_.connections).add("subscribed", subscribed_).add("failed", failed_)
        .add("error", first_error_.empty() ? "connect timeout" : first_error_).add("pass", false);
    line.print();
    return 1;
  }
  for (double rate : options_.rates) {
    start_publishing(rate);
    run_until([] { return false; }, options_.warmup_seconds);
    Window window;
    window.start_ns = monotonic_ns();
    window.end_ns = window.start_ns + static_cast<std::uint64_t>(options_.step_seconds * kNsPerSecond);
    windows_ = {&window};
    const std::uint64_t skipped_before = skipped_;
    CpuWindow cpu;
    cpu.begin(options_.server_pid);
    run_until([] { return false; }, options_.step_seconds);
    cpu.finish(options_.server_pid);
    stop_publishing();
    run_until([&] { return window.delivered >= window.expected && !http_in_flight_; }, options_.drain_seconds);
    windows_.clear();
    const double seconds = seconds_between(window.start_ns, window.end_ns);
    const double fraction = window.expected == 0 ? 0 : static_cast<double>(window.delivered) / static_cast<double>(window.expected);
    const double publish_eps = static_cast<double>(window.published) / seconds;
    const double p99 = ms(window.latency.quantile(0.99));
    // One event of slack: at a few events per second the window boundary alone can cost one.
    const bool publisher_kept_up = static_cast<double>(window.published) + 1.0 >= 0.97 * rate * seconds;
    const bool pass = window.expected > 0 && window.delivered >= window.expected && p99 <= options_.max_p99_ms && publisher_kept_up;
    const ProcessSample mem = sample_process(options_.server_pid);
    JsonLine line;
    line.add("target", target_name(options_.target)).add("mode", "fanout").add("label", options_.label)
        .add("connections", options_.connections).add("subscribed", subscribed_).add("failed", failed_)
        .add("topics", options_.topics).add("wildcard", options_.wildcard).add("payload_bytes", options_.payload_bytes)
        .add("connect_seconds", connect_seconds)
        .add("rate_eps", rate).add("publish_eps", publish_eps).add("publisher_kept_up", publisher_kept_up)
        .add("skipped", static_cast<unsigned long long>(skipped_ - skipped_before))
        .add("published", static_cast<unsigned long long>(window.published))
        .add("offered_deliveries_per_s", window.published ? rate * static_cast<double>(window.expected) / static_cast<double>(window.published) : NAN)
        .add("expected", static_cast<unsigned long long>(window.expected))
        .add("delivered", static_cast<unsigned long long>(window.delivered)).add("delivered_fraction", fraction)
        .add("deliveries_per_s", static_cast<double>(window.delivered) / seconds)
        .add("p50_ms", ms(window.latency.quantile(0.50))).add("p99_ms", p99)
        .add("p999_ms", ms(window.latency.quantile(0.999))).add("max_ms", ms(window.latency.max()))
        .add("server_cpu_pct", cpu.server_pct()).add("server_rss_mb", static_cast<double>(mem.rss_bytes) / 1048576.0)
        .add("gen_cpu_pct", cpu.own_pct()).add("gen_saturated", cpu.own_pct() > 90.0)
        .add("closed_subscribers", closed_subscribers_).add("errors", errors_ + static_cast<int>(publish_errors_))
        .add("first_error", first_error_).add("pass", pass);
    line.print();
    if (!pass && options_.stop_on_fail) break;
    // Let a backlog from this step clear before the next one starts.
    run_until([] { return false; }, 0.3);
  }
  return 0;
}

int LoadGenerator::run_idle() {
  const ProcessSample before = sample_process(options_.server_pid);
  double connect_seconds = 0;
  const bool connected = connect_subscribers(connect_seconds);
  run_until([] { return false; }, options_.settle_seconds);
  const ProcessSample after = sample_process(options_.server_pid);
  const double delta = static_cast<double>(after.rss_bytes) - static_cast<double>(before.rss_bytes);
  JsonLine line;
  line.add("target", target_name(options_.target)).add("mode", "idle").add("label", options_.label)
      .add("connections", options_.connections).add("subscribed", subscribed_).add("failed", failed_)
      .add("all_subscribed", connected && subscribed_ == options_.connections)
      .add("connect_seconds", connect_seconds)
      .add("connects_per_s", static_cast<double>(subscribed_) / connect_seconds)
      .add("rss_before_mb", static_cast<double>(before.rss_bytes) / 1048576.0)
      .add("rss_after_mb", static_cast<double>(after.rss_bytes) / 1048576.0)
      .add("bytes_per_connection", subscribed_ > 0 ? delta / subscribed_ : NAN)
      .add("closed_subscribers", closed_subscribers_).add("first_error", first_error_);
  line.print();
  return connected ? 0 : 1;
}

int LoadGenerator::run_slow() {
  double connect_seconds = 0;
  connect_subscribers(connect_seconds);
  if (options_.target == Target::globemeet) metrics_id_ = open_connection(Role::metrics, 0);
  const double rate = options_.rates.front();
  start_publishing(rate);
  run_until([] { return false; }, options_.warmup_seconds);
  Window before;
  before.start_ns = monotonic_ns();
  before.end_ns = before.start_ns + static_cast<std::uint64_t>(options_.slow_after_seconds * kNsPerSecond);
  windows_ = {&before};
  run_until([] { return false; }, options_.slow_after_seconds);
  // The slow share stops reading (they were never measured; their small receive buffer fills fast).
  std::vector<int> slow;
  for (int id : subscriber_ids_) {
    Connection& c = connections_[static_cast<std::size_t>(id)];
    if (!c.measured && c.phase == Phase::live) { stop_reading(c); slow.push_back(id); }
  }
  slow_count_ = static_cast<int>(slow.size());
  const std::uint64_t stopped_at = monotonic_ns();
  Window during;
  during.start_ns = stopped_at;
  during.end_ns = stopped_at + static_cast<std::uint64_t>(options_.slow_seconds * kNsPerSecond);
  windows_ = {&before, &during};
  CpuWindow cpu;
  cpu.begin(options_.server_pid);
  run_until([] { return false; }, options_.slow_seconds);
  cpu.finish(options_.server_pid);
  stop_publishing();
  run_until([&] { return during.delivered >= during.expected && before.delivered >= before.expected; }, options_.drain_seconds);
  windows_.clear();
  // Dropped: closed while not reading (reset/FIN seen), or found closed when reading resumes.
  int dropped_seen = 0;
  std::uint64_t last_drop = 0;
  for (int id : slow) {
    Connection& c = connections_[static_cast<std::size_t>(id)];
    if (c.phase == Phase::closed) { ++dropped_seen; last_drop = std::max(last_drop, c.dropped_at_ns); }
  }
  for (int id : slow) {
    Connection& c = connections_[static_cast<std::size_t>(id)];
    if (c.phase != Phase::closed) { c.reading = true; update_interest(c, true); }
  }
  run_until([&] {
    for (int id : slow) if (connections_[static_cast<std::size_t>(id)].phase != Phase::closed) return false;
    return true;
  }, 3);
  int dropped_total = 0;
  for (int id : slow) if (connections_[static_cast<std::size_t>(id)].phase == Phase::closed) ++dropped_total;
  auto frac = [](const Window& w) { return w.expected == 0 ? 0.0 : static_cast<double>(w.delivered) / static_cast<double>(w.expected); };
  JsonLine line;
  line.add("target", target_name(options_.target)).add("mode", "slow").add("label", options_.label)
      .add("connections", options_.connections).add("subscribed", subscribed_).add("payload_bytes", options_.payload_bytes)
      .add("rate_eps", rate).add("slow_consumers", slow_count_)
      .add("slow_dropped_during_run", dropped_seen).add("slow_dropped_after_resume_read", dropped_total)
      .add("last_drop_seen_s", last_drop > 0 ? seconds_between(stopped_at, last_drop) : NAN)
      .add("overflow_closes", static_cast<unsigned long long>(overflow_closes_))
      .add("first_overflow_close_s", first_overflow_close_ns_ > 0 ? seconds_between(stopped_at, first_overflow_close_ns_) : NAN)
      .add("all_overflow_closed_s", all_overflow_closed_ns_ > 0 ? seconds_between(stopped_at, all_overflow_closed_ns_) : NAN)
      .add("before_p50_ms", ms(before.latency.quantile(0.5))).add("before_p99_ms", ms(before.latency.quantile(0.99)))
      .add("before_delivered_fraction", frac(before))
      .add("during_p50_ms", ms(during.latency.quantile(0.5))).add("during_p99_ms", ms(during.latency.quantile(0.99)))
      .add("during_p999_ms", ms(during.latency.quantile(0.999))).add("during_delivered_fraction", frac(during))
      .add("server_cpu_pct", cpu.server_pct()).add("gen_cpu_pct", cpu.own_pct()).add("gen_saturated", cpu.own_pct() > 90.0)
      .add("fast_closed", closed_subscribers_ - dropped_total).add("first_error", first_error_);
  line.print();
  return 0;
}

int LoadGenerator::run_resume() {
  double connect_seconds = 0;
  // Live subscribers take topic 0; the backlog goes to topic 1, which only the resumer (">") wants.
  options_.topics = 2;
  layout_.topics = 1;
  connect_subscribers(connect_seconds);
  receivers_.assign(2, 0);
  for (int id : subscriber_ids_) if (connections_[static_cast<std::size_t>(id)].phase == Phase::live) ++receivers_[0];
  if (!post_events(1, 1)) {
    JsonLine line;
    line.add("target", target_name(options_.target)).add("mode", "resume").add("error", first_error_);
    line.print();
    return 1;
  }
  const std::string marker = last_first_id_;
  const std::uint64_t preload_start = monotonic_ns();
  for (int done = 0; done < options_.resume_events;) {
    const int batch = std::min(1000, options_.resume_events - done);
    if (!post_events(1, batch)) break;
    done += batch;
  }
  const double preload_seconds = seconds_between(preload_start, monotonic_ns());
  resume_from_ = marker;
  const double rate = options_.rates.front();
  start_publishing(rate, 0, 1);
  run_until([] { return false; }, options_.warmup_seconds);
  Window baseline;
  baseline.start_ns = monotonic_ns();
  baseline.end_ns = baseline.start_ns + 2'000'000'000ull;
  windows_ = {&baseline};
  run_until([] { return false; }, 2.0);
  Window during;
  during.start_ns = monotonic_ns();
  windows_ = {&baseline, &during};
  resumer_id_ = open_connection(Role::resumer, 0);
  const bool replayed = run_until([&] { return replayed_count_ >= 0; }, 60);
  during.end_ns = monotonic_ns();
  run_until([] { return false; }, 0.5);
  stop_publishing();
  run_until([&] { return during.delivered >= during.expected; }, options_.drain_seconds);
  windows_.clear();
  const double replay_seconds = replayed ? seconds_between(resumer_subscribed_ns_, replayed_at_ns_) : NAN;
  JsonLine line;
  line.add("target", target_name(options_.target)).add("mode", "resume").add("label", options_.label)
      .add("connections", options_.connections).add("subscribed", subscribed_).add("payload_bytes", options_.payload_bytes)
      .add("live_rate_eps", rate).add("behind_events", options_.resume_events)
      .add("preload_seconds", preload_seconds).add("replayed", replayed)
      .add("replayed_count", static_cast<long long>(replayed_count_))
      .add("replay_seconds", replay_seconds)
      .add("replay_events_per_s", replayed ? static_cast<double>(replayed_count_) / replay_seconds : NAN)
      .add("baseline_p50_ms", ms(baseline.latency.quantile(0.5))).add("baseline_p99_ms", ms(baseline.latency.quantile(0.99)))
      .add("during_p50_ms", ms(during.latency.quantile(0.5))).add("during_p99_ms", ms(during.latency.quantile(0.99)))
      .add("during_max_ms", ms(during.latency.max()))
      .add("during_delivered_fraction", during.expected ? static_cast<double>(during.delivered) / static_cast<double>(during.expected) : NAN)
      .add("resumer_close_code", resumer_id_ >= 0 ? connections_[static_cast<std::size_t>(resumer_id_)].close_code : 0)
      .add("resumer_events", static_cast<unsigned long long>(resumer_events_))
      .add("closed_subscribers", closed_subscribers_).add("first_error", first_error_);
  line.print();
  return replayed ? 0 : 1;
}

}  // namespace bench
