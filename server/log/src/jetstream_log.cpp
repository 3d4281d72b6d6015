#include "globemeet/server/log/jetstream_log.hpp"

#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <random>
#include <unordered_map>

#include "globemeet/core/event_id.hpp"
#include "window_read.hpp"

namespace globemeet::server::log {
namespace {

using clock = std::chrono::steady_clock;

constexpr std::int64_t api_wait_ms = 2000;         // one JetStream API request
constexpr std::int64_t ack_wait_ms = 2000;         // one round of publish acks
constexpr auto retry_pause = std::chrono::milliseconds(200);
constexpr auto info_period = std::chrono::seconds(1);
constexpr auto stall_limit = std::chrono::milliseconds(500);  // behind the stream this long without a message: resubscribe
constexpr std::size_t max_fan_out_batch = 1024;
constexpr std::string_view epoch_marker = "epoch ";

// Why the connection has not come up, as the NATS client last saw it (" (Authorization
// Violation)" for a refused login), or nothing.
std::string last_connection_error(natsConnection* connection) {
  const char* text = nullptr;
  if (connection == nullptr || natsConnection_GetLastError(connection, &text) == NATS_OK || text == nullptr || *text == 0)
    return "";
  return std::string(" (") + text + ")";
}

std::string status_text(natsStatus s, jsErrCode code = static_cast<jsErrCode>(0)) {
  std::string text = natsStatus_GetText(s);
  if (code != 0) text += " (JetStream error " + std::to_string(static_cast<int>(code)) + ")";
  natsStatus last_status = NATS_OK;
  if (const char* last = nats_GetLastError(&last_status); last && *last) text += ": " + std::string(last);
  return text;
}

// 16 random lowercase hex digits (std::random_device reads the kernel's generator on Linux).
std::string random_epoch() {
  std::random_device device;
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 4; ++i) {
    const unsigned word = device();
    for (int shift = 12; shift >= 0; shift -= 4) out += digits[(word >> shift) & 15u];
  }
  return out;
}

// "GlobeMeet event log; epoch 0123abcd...; ..." -> the epoch, or empty.
std::string epoch_in(const char* description) {
  if (!description) return {};
  const std::string_view text(description);
  const std::size_t at = text.find(epoch_marker);
  if (at == std::string_view::npos) return {};
  std::string_view rest = text.substr(at + epoch_marker.size());
  rest = rest.substr(0, rest.find_first_of("; "));
  return is_valid_log_epoch(rest) ? std::string(rest) : std::string();
}

std::int64_t ns_of_ms(std::int64_t ms) { return ms * 1'000'000; }

struct stream_info_handle {
  jsStreamInfo* info = nullptr;
  ~stream_info_handle() { jsStreamInfo_Destroy(info); }
};
struct subscription_handle {
  natsSubscription* sub = nullptr;
  ~subscription_handle() { reset(); }
  void reset() {
    if (sub) {
      natsSubscription_Unsubscribe(sub);
      natsSubscription_Destroy(sub);
      sub = nullptr;
    }
  }
};
struct message_handle {
  natsMsg* msg = nullptr;
  ~message_handle() { natsMsg_Destroy(msg); }
};

}  // namespace

// One event on its way to JetStream; the ack handler fills in `seq` (or `error`).
struct outgoing {
  std::string subject;
  const std::string* payload = nullptr;
  std::string msg_id;
  std::uint64_t seq = 0;
  std::string error;
};

struct jetstream_log::nats {
  jetstream_log* owner = nullptr;
  natsOptions* options = nullptr;
  natsConnection* connection = nullptr;
  jsCtx* admin = nullptr;      // stream info and consumers
  jsCtx* publisher = nullptr;  // asynchronous publishing, acks through on_ack
  std::atomic<bool> connected{false};

  // The publisher's messages awaiting an ack, by message id (several events may share one:
  // a publish retried under the same Idempotency-Key while the first is still under way).
  std::mutex ack_mutex;
  std::condition_variable ack_cv;
  std::unordered_map<std::string, std::vector<outgoing*>> awaiting;
  std::size_t outstanding = 0;

  // The connection closes first, so no ack or connection callback runs into what is destroyed next.
  ~nats() {
    if (connection) natsConnection_Close(connection);
    jsCtx_Destroy(publisher);
    jsCtx_Destroy(admin);
    natsConnection_Destroy(connection);
    natsOptions_Destroy(options);
  }

  static void on_connected(natsConnection*, void* closure) {
    auto* self = static_cast<nats*>(closure);
    self->connected.store(true);
    self->owner->notice_("info", "jetstream_connected", "connected to NATS");
  }
  static void on_disconnected(natsConnection*, void* closure) {
    auto* self = static_cast<nats*>(closure);
    if (self->connected.exchange(false) && !self->owner->stopping_.load())
      self->owner->notice_("warn", "jetstream_disconnected", "lost the connection to NATS; reconnecting");
  }
  static void on_reconnected(natsConnection* nc, void* closure) {
    auto* self = static_cast<nats*>(closure);
    self->connected.store(true);
    char url[256] = {0};
    natsConnection_GetConnectedUrl(nc, url, sizeof url);
    self->owner->notice_("info", "jetstream_reconnected", std::string("reconnected to ") + url);
  }

  static void on_ack(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error, void* closure) {
    auto* self = static_cast<nats*>(closure);
    const char* id = nullptr;
    if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) == NATS_OK && id) {
      const std::lock_guard lock(self->ack_mutex);
      if (auto it = self->awaiting.find(id); it != self->awaiting.end()) {
        for (outgoing* o : it->second) {
          if (ack)
            o->seq = ack->Sequence;
          else if (error)
            o->error = error->ErrText ? error->ErrText : natsStatus_GetText(error->Err);
        }
        self->outstanding -= 1;
        self->awaiting.erase(it);
        if (self->outstanding == 0) self->ack_cv.notify_all();
      }
    }
    natsMsg_Destroy(msg);
  }
};

core::result<std::unique_ptr<jetstream_log>> jetstream_log::open(jetstream_log_options options, log_notice notice) {
  auto fail = [](const std::string& what) { return core::error{std::string(log_unavailable_code), what}; };
  if (options.urls.empty()) return fail("--nats: give at least one nats://host:port");
  if (options.replicas < 1 || options.replicas > 5) return fail("--nats-replicas must be between 1 and 5");
  if (options.retention.max_events < 1 || options.retention.max_age_ms < 1) return fail("invalid retention");

  std::unique_ptr<jetstream_log> log(new jetstream_log(std::move(options), std::move(notice)));
  nats& n = *log->nats_;
  std::vector<const char*> urls;
  for (const auto& url : log->options_.urls) urls.push_back(url.c_str());
  natsStatus s = natsOptions_Create(&n.options);
  if (s == NATS_OK) s = natsOptions_SetServers(n.options, urls.data(), static_cast<int>(urls.size()));
  if (s == NATS_OK) s = natsOptions_SetName(n.options, "globemeet-server");
  const auto& o = log->options_;
  if (s == NATS_OK && !o.creds_file.empty()) s = natsOptions_SetUserCredentialsFromFiles(n.options, o.creds_file.c_str(), nullptr);
  if (s == NATS_OK && !o.user.empty()) s = natsOptions_SetUserInfo(n.options, o.user.c_str(), o.password.c_str());
  if (s == NATS_OK && !o.token.empty()) s = natsOptions_SetToken(n.options, o.token.c_str());
  if (s == NATS_OK && !o.ca_file.empty()) s = natsOptions_SetSecure(n.options, true);
  if (s == NATS_OK && !o.ca_file.empty()) s = natsOptions_LoadCATrustedCertificates(n.options, o.ca_file.c_str());
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(n.options, -1);  // forever: JetStream comes back
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(n.options, 250);
  if (s == NATS_OK) s = natsOptions_SetPingInterval(n.options, 2000);  // notice a dead server within seconds
  if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(n.options, 2);
  if (s == NATS_OK) s = natsOptions_SetFailRequestsOnDisconnect(n.options, true);
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(n.options, &nats::on_disconnected, &n);
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(n.options, &nats::on_reconnected, &n);
  // Not reachable at start: the library keeps trying in the background and calls on_connected.
  if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(n.options, true, &nats::on_connected, &n);
  if (s != NATS_OK) return fail("NATS options: " + status_text(s));

  s = natsConnection_Connect(&n.connection, n.options);
  // The first attempt's reason (a later retry overwrites it with "no server available").
  const std::string connect_error = s == NATS_NOT_YET_CONNECTED ? last_connection_error(n.connection) : "";
  if (s == NATS_OK) {
    n.connected.store(true);
  } else if (s != NATS_NOT_YET_CONNECTED) {
    return fail("NATS " + log->options_.urls.front() + ": " + status_text(s));
  }
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = api_wait_ms;
  s = natsConnection_JetStream(&n.admin, n.connection, &js_options);
  if (s == NATS_OK) {
    js_options.PublishAsync.AckHandler = &nats::on_ack;
    js_options.PublishAsync.AckHandlerClosure = &n;
    js_options.PublishAsync.MaxPending = 4096;
    s = natsConnection_JetStream(&n.publisher, n.connection, &js_options);
  }
  if (s != NATS_OK) return fail("JetStream context: " + status_text(s));

  // Wait a little for the stream, so that a stream this log cannot use stops the server now.
  const auto deadline = clock::now() + std::chrono::milliseconds(log->options_.open_wait_ms);
  std::string transient = "NATS is not reachable yet";
  while (clock::now() < deadline) {
    if (n.connected.load()) {
      if (auto error = log->set_up_stream(transient)) return *error;
      if (log->stream_ready_.load()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!log->stream_ready_.load()) {
    if (!n.connected.load()) transient += connect_error;
    log->notice_("warn", "jetstream_unreachable",
                 transient + "; retrying every second, /readyz answers 503 and WebSocket handshakes are refused until then");
  }
  return log;
}

jetstream_log::jetstream_log(jetstream_log_options options, log_notice notice)
    : options_(std::move(options)), notice_(std::move(notice)), nats_(std::make_unique<nats>()) {
  nats_->owner = this;
}

jetstream_log::~jetstream_log() { close(); }

void jetstream_log::start() {
  if (consumer_.joinable()) return;
  consumer_ = std::thread([this] { run_consumer(); });
  publisher_ = std::thread([this] { run_publisher(); });
}

void jetstream_log::close() {
  {
    const std::lock_guard lock(queue_mutex_);
    if (closing_) return;
    closing_ = true;
  }
  queue_cv_.notify_all();
  if (publisher_.joinable()) publisher_.join();  // completes what was queued
  stopping_.store(true);
  if (consumer_.joinable()) consumer_.join();
  {
    const std::lock_guard lock(queue_mutex_);
    for (auto& request : queue_)
      if (request.done) request.done(core::error{std::string(log_unavailable_code), "the event log is closing"});
    queue_.clear();
  }
  nats_.reset();
}

std::optional<core::error> jetstream_log::set_up_stream(std::string& transient) {
  nats& n = *nats_;
  const std::int64_t max_age_ns = ns_of_ms(options_.retention.max_age_ms);
  const std::int64_t max_msgs = static_cast<std::int64_t>(options_.retention.max_events);
  const std::int64_t duplicates_ns = ns_of_ms(idempotency_window_ms);
  const std::string subjects = options_.subject_prefix + ".>";
  const char* subject_list[] = {subjects.c_str()};
  auto unusable = [&](const std::string& why) {
    return core::error{std::string(log_unavailable_code),
                       "JetStream stream " + options_.stream + " " + why +
                           "; fix or delete it (nats stream rm " + options_.stream + ") and start again"};
  };

  for (int attempt = 0; attempt < 2; ++attempt) {
    stream_info_handle found;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s = js_GetStreamInfo(&found.info, n.admin, options_.stream.c_str(), nullptr, &code);
    if (s == NATS_NOT_FOUND || code == JSStreamNotFoundErr) {
      const std::string epoch = random_epoch();
      const std::string description = "GlobeMeet event log; epoch " + epoch + "; written by globemeet-server, do not edit";
      jsStreamConfig config;
      jsStreamConfig_Init(&config);
      config.Name = options_.stream.c_str();
      config.Description = description.c_str();
      config.Subjects = subject_list;
      config.SubjectsLen = 1;
      config.Retention = js_LimitsPolicy;
      config.Storage = js_FileStorage;
      config.Discard = js_DiscardOld;
      config.MaxMsgs = max_msgs;
      config.MaxAge = max_age_ns;
      config.Replicas = options_.replicas;
      config.Duplicates = duplicates_ns;
      config.DenyDelete = true;
      config.DenyPurge = true;
      stream_info_handle created;
      s = js_AddStream(&created.info, n.admin, &config, nullptr, &code);
      if (s == NATS_OK) {
        notice_("info", "jetstream_stream_created", options_.stream + " (epoch " + epoch + ", replicas " +
                                                        std::to_string(options_.replicas) + ")");
        continue;  // read it back like any existing stream
      }
      if (code == JSStreamNameExistErr) continue;  // another node created it meanwhile
      transient = "cannot create JetStream stream " + options_.stream + ": " + status_text(s, code);
      return std::nullopt;
    }
    if (s != NATS_OK) {
      transient = "cannot read JetStream stream " + options_.stream + ": " + status_text(s, code);
      return std::nullopt;
    }

    const jsStreamConfig& have = *found.info->Config;
    const std::string epoch = epoch_in(have.Description);
    if (epoch.empty()) return unusable("was not made by globemeet-server (its description names no epoch)");
    if (have.Storage != js_FileStorage) return unusable("keeps its messages in memory, not on file");
    if (have.Retention != js_LimitsPolicy) return unusable("does not use the limits retention policy");
    if (have.SubjectsLen != 1 || subjects != have.Subjects[0])
      return unusable("does not hold exactly the subjects " + subjects);
    if (have.Sealed || have.Mirror || have.SourcesLen > 0) return unusable("is sealed, a mirror or sourced");
    if (!epoch_.empty() && epoch != epoch_)
      return unusable("was deleted and created again (epoch " + epoch_ + " is now " + epoch + "); restart this node");

    // Settings the flags own: updated in place (every node should be given the same ones).
    if (have.MaxMsgs != max_msgs || have.MaxAge != max_age_ns || have.Replicas != options_.replicas ||
        have.Duplicates != duplicates_ns || have.Discard != js_DiscardOld || have.MaxBytes > 0 ||
        have.MaxMsgsPerSubject > 0) {
      jsStreamConfig wanted = have;
      wanted.MaxMsgs = max_msgs;
      wanted.MaxAge = max_age_ns;
      wanted.Replicas = options_.replicas;
      wanted.Duplicates = duplicates_ns;
      wanted.Discard = js_DiscardOld;
      wanted.MaxBytes = -1;
      wanted.MaxMsgsPerSubject = -1;
      stream_info_handle updated;
      s = js_UpdateStream(&updated.info, n.admin, &wanted, nullptr, &code);
      if (s != NATS_OK) return unusable("has other settings than this node's flags and cannot be updated (" + status_text(s, code) + ")");
      notice_("warn", "jetstream_stream_updated",
              options_.stream + ": retention, replicas or duplicate window set to this node's flags");
    }
    {
      const std::lock_guard lock(mutex_);
      oldest_seq_ = std::max<std::uint64_t>(found.info->State.FirstSeq, 1);
      stream_last_seq_ = found.info->State.LastSeq;
      if (head_seq_ == 0 && !started_.load()) {
        // A new node: the newest events into memory, older ones read from JetStream on demand.
        const std::size_t keep = std::min(options_.memory_events, options_.retention.max_events);
        const std::uint64_t last = stream_last_seq_;
        head_seq_ = last > keep ? std::max(last - keep, oldest_seq_ - 1) : oldest_seq_ - 1;
      }
    }
    if (epoch_.empty()) epoch_ = epoch;  // before started_, which publishes it
    stream_ready_.store(true);
    return std::nullopt;
  }
  transient = "JetStream stream " + options_.stream + " was created and deleted again meanwhile";
  return std::nullopt;
}

bool jetstream_log::refresh_stream_info() {
  stream_info_handle found;
  jsErrCode code = static_cast<jsErrCode>(0);
  const auto sent = clock::now();
  const natsStatus s = js_GetStreamInfo(&found.info, nats_->admin, options_.stream.c_str(), nullptr, &code);
  if (s != NATS_OK) {
    if (s == NATS_NOT_FOUND || code == JSStreamNotFoundErr) {
      const std::lock_guard lock(mutex_);
      if (!fatal_) {
        fatal_ = "JetStream stream " + options_.stream + " was deleted; restart this node (its clients then get reset epoch_changed)";
        notice_("error", "jetstream_stream_lost", *fatal_);
      }
      return false;
    }
    set_unavailable("cannot reach JetStream stream " + options_.stream + ": " + status_text(s, code));
    return false;
  }
  round_trip_ns_.store(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - sent).count()),
                       std::memory_order_relaxed);
  const std::string epoch = epoch_in(found.info->Config->Description);
  const std::lock_guard lock(mutex_);
  if (epoch != epoch_) {
    if (!fatal_) {
      fatal_ = "JetStream stream " + options_.stream + " was created again (epoch " + epoch_ + " is now " +
               (epoch.empty() ? "unknown" : epoch) + "); restart this node (its clients then get reset epoch_changed)";
      notice_("error", "jetstream_stream_lost", *fatal_);
    }
    return false;
  }
  oldest_seq_ = std::max<std::uint64_t>({oldest_seq_, found.info->State.FirstSeq, 1});
  stream_last_seq_ = std::max(stream_last_seq_, found.info->State.LastSeq);
  while (!window_.empty() && window_.front()->seq < oldest_seq_) window_.pop_front();
  unavailable_.reset();
  return true;
}

void jetstream_log::set_unavailable(std::optional<std::string> reason) {
  const std::lock_guard lock(mutex_);
  unavailable_ = std::move(reason);
}

std::optional<std::string> jetstream_log::unavailable_reason() const {
  const std::lock_guard lock(mutex_);
  if (fatal_) return fatal_;
  if (!nats_ || !nats_->connected.load()) return "NATS is unreachable; reconnecting";
  if (!stream_ready_.load()) return "JetStream stream " + options_.stream + " is not reachable yet";
  if (!started_.load()) return "catching up with JetStream stream " + options_.stream;
  return unavailable_;
}

namespace {

// A message of the stream as the event every node builds from it; nullptr for a message that is
// no GlobeMeet event (written into the stream by something else).
stored_event_ptr event_of(natsMsg* msg, const std::string& prefix, const std::string& epoch) {
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) != NATS_OK) return nullptr;
  const std::uint64_t seq = meta->Sequence.Stream;
  const std::int64_t time_ms = meta->Timestamp / 1'000'000;
  jsMsgMetaData_Destroy(meta);
  std::string_view subject = natsMsg_GetSubject(msg);
  if (subject.size() <= prefix.size() + 1 || !subject.starts_with(prefix) || subject[prefix.size()] != '.') return nullptr;
  subject.remove_prefix(prefix.size() + 1);
  const std::size_t dot = subject.find('.');
  if (dot == std::string_view::npos) return nullptr;
  const char* data = natsMsg_GetData(msg);
  auto pending = events::pending_event_from_topic(subject.substr(0, dot), subject.substr(dot + 1),
                                                  std::string(data ? data : "", static_cast<std::size_t>(natsMsg_GetDataLength(msg))));
  if (!pending) return nullptr;
  std::vector<events::pending_event> one;
  one.push_back(std::move(pending.value()));
  auto built = build_stored_events(one, epoch, seq, time_ms);
  return built.empty() ? nullptr : built.front();
}

// An ordered consumer of the whole stream from `start_seq` (at least 1).
natsStatus subscribe_from(natsSubscription** sub, jsCtx* js, const std::string& stream, const std::string& subjects,
                          std::uint64_t start_seq) {
  jsSubOptions options;
  jsSubOptions_Init(&options);
  options.Stream = stream.c_str();
  options.Ordered = true;
  options.Config.DeliverPolicy = js_DeliverByStartSequence;
  options.Config.OptStartSeq = std::max<std::uint64_t>(start_seq, 1);
  jsErrCode code = static_cast<jsErrCode>(0);
  return js_SubscribeSync(sub, js, subjects.c_str(), nullptr, &options, &code);
}

}  // namespace

void jetstream_log::run_consumer() {
  nats& n = *nats_;
  const std::string subjects = options_.subject_prefix + ".>";
  subscription_handle sub;
  auto last_progress = clock::now();
  auto next_info = clock::now();
  std::string transient;
  std::string reported;
  std::vector<stored_event_ptr> batch;
  while (!stopping_.load()) {
    if (!n.connected.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    if (!stream_ready_.load()) {
      if (auto error = set_up_stream(transient)) {
        const std::lock_guard lock(mutex_);
        fatal_ = error->message;
        notice_("error", "jetstream_stream_unusable", error->message);
      }
      if (!stream_ready_.load()) {
        if (transient != reported) notice_("warn", "jetstream_unreachable", transient + "; retrying");
        reported = transient;
        std::this_thread::sleep_for(std::chrono::seconds(1));
        continue;
      }
    }
    if (clock::now() >= next_info) {
      next_info = clock::now() + info_period;
      refresh_stream_info();
    }
    bool fatal = false;
    std::uint64_t head = 0, stream_last = 0;
    {
      const std::lock_guard lock(mutex_);
      fatal = fatal_.has_value();
      head = head_seq_;
      stream_last = stream_last_seq_;
    }
    if (fatal) {
      sub.reset();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    // Caught up with the stream as it was when this node reached it: ids and heads are now
    // the cluster's, so clients may come.
    if (!started_.load() && head >= stream_last) {
      started_.store(true, std::memory_order_release);
      notice_("info", "jetstream_ready", "stream " + options_.stream + ", epoch " + epoch_ + ", head " + std::to_string(head));
    }
    // Behind the stream without progress (the ordered consumer lost its server, or JetStream
    // was down): consume again from where this node stands.
    if (sub.sub && head < stream_last && clock::now() - last_progress > stall_limit) sub.reset();
    if (!sub.sub) {
      const natsStatus s = subscribe_from(&sub.sub, n.admin, options_.stream, subjects, head + 1);
      if (s != NATS_OK) {
        sub.sub = nullptr;
        std::this_thread::sleep_for(retry_pause);
        continue;
      }
      last_progress = clock::now();
    }

    batch.clear();
    for (std::size_t taken = 0; taken < max_fan_out_batch; ++taken) {
      message_handle msg;
      // The first message waits a little; the rest of a batch is only what is already here.
      const natsStatus s = natsSubscription_NextMsg(&msg.msg, sub.sub, taken == 0 ? 100 : 0);
      if (s == NATS_TIMEOUT) break;
      if (s != NATS_OK) {
        if (s != NATS_MISSED_HEARTBEAT && s != NATS_MISMATCH) sub.reset();
        break;
      }
      if (stored_event_ptr event = event_of(msg.msg, options_.subject_prefix, epoch_)) {
        if (event->seq > head && (batch.empty() || event->seq > batch.back()->seq)) batch.push_back(std::move(event));
      } else {
        damaged_events_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    if (batch.empty()) continue;
    last_progress = clock::now();

    const std::size_t keep = std::min(options_.memory_events, options_.retention.max_events);
    std::shared_ptr<const append_listener> listener;
    {
      const std::lock_guard lock(mutex_);
      window_.insert(window_.end(), batch.begin(), batch.end());
      while (window_.size() > keep) window_.pop_front();
      listener = listener_;
    }
    // As every log: the head moves only once the listener has the batch (event_log.hpp).
    if (listener && *listener) (*listener)(batch);
    {
      const std::lock_guard lock(mutex_);
      head_seq_ = batch.back()->seq;
      stream_last_seq_ = std::max(stream_last_seq_, head_seq_);
    }
  }
}

void jetstream_log::append(std::vector<events::pending_event> batch, std::int64_t now_ms, append_completion done) {
  if (batch.empty()) {
    if (done) done(std::vector<stored_event_ptr>{});
    return;
  }
  {
    const std::lock_guard lock(queue_mutex_);
    if (!closing_) {
      queue_.push_back({std::move(batch), now_ms, std::move(done)});
      queue_cv_.notify_one();
      return;
    }
  }
  if (done) done(core::error{std::string(log_unavailable_code), "the event log is closing"});
}

void jetstream_log::run_publisher() {
  std::vector<append_request> group;
  for (;;) {
    {
      std::unique_lock lock(queue_mutex_);
      queue_cv_.wait(lock, [&] { return closing_ || !queue_.empty(); });
      group.swap(queue_);
      if (group.empty() && closing_) return;
    }
    publish_group(group);
    group.clear();
  }
}

void jetstream_log::publish_group(std::vector<append_request>& group) {
  nats& n = *nats_;
  auto fail_all = [&](const std::string& why) {
    for (auto& request : group)
      if (request.done) request.done(core::error{std::string(log_unavailable_code), why});
  };
  bool fatal = false;
  {
    const std::lock_guard lock(mutex_);
    fatal = fatal_.has_value();
  }
  if (fatal || !started_.load() || !n.connected.load()) {
    const auto reason = unavailable_reason();
    return fail_all("the event log cannot store events now (" + reason.value_or("JetStream is unreachable") + "); retry later");
  }

  // Every event's message id: its idempotency id, or one made for this request (so that the
  // retries below are stored once even without an Idempotency-Key).
  std::vector<std::vector<outgoing>> outgoing_of(group.size());
  for (std::size_t r = 0; r < group.size(); ++r) {
    const std::string nonce = random_epoch();
    auto& events = group[r].batch;
    outgoing_of[r].resize(events.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
      outgoing& o = outgoing_of[r][i];
      o.subject = options_.subject_prefix + "." + events[i].tenant + "." + events[i].topic;
      o.payload = &events[i].data_json;
      o.msg_id = events[i].idempotency_id.empty() ? "gm-" + nonce + "-" + std::to_string(i) : events[i].idempotency_id;
    }
  }

  const auto started_at = clock::now();
  const auto deadline = started_at + std::chrono::milliseconds(options_.publish_timeout_ms);
  std::string last_error;
  for (;;) {
    // One round: every event without an ack yet, in batch order, then wait for the acks.
    std::size_t sent = 0;
    {
      const std::lock_guard lock(n.ack_mutex);
      n.awaiting.clear();
      n.outstanding = 0;
    }
    for (auto& batch : outgoing_of) {
      for (outgoing& o : batch) {
        if (o.seq != 0) continue;
        o.error.clear();
        {
          const std::lock_guard lock(n.ack_mutex);
          auto& waiting = n.awaiting[o.msg_id];
          waiting.push_back(&o);
          if (waiting.size() > 1) continue;  // the same id once per round
          n.outstanding += 1;
        }
        natsMsg* msg = nullptr;
        natsStatus s = natsMsg_Create(&msg, o.subject.c_str(), nullptr, o.payload->data(), static_cast<int>(o.payload->size()));
        if (s == NATS_OK) s = natsMsgHeader_Set(msg, "Nats-Msg-Id", o.msg_id.c_str());
        jsPubOptions options;
        jsPubOptions_Init(&options);
        options.MaxWait = ack_wait_ms;
        if (s == NATS_OK) s = js_PublishMsgAsync(n.publisher, &msg, &options);
        natsMsg_Destroy(msg);  // a no-op once the library took it
        if (s != NATS_OK) {
          last_error = status_text(s);
          const std::lock_guard lock(n.ack_mutex);
          n.awaiting.erase(o.msg_id);
          n.outstanding -= 1;
        } else {
          ++sent;
        }
      }
    }
    if (sent > 0) {
      std::unique_lock lock(n.ack_mutex);
      n.ack_cv.wait_until(lock, std::min(deadline, clock::now() + std::chrono::milliseconds(ack_wait_ms + 500)),
                          [&] { return n.outstanding == 0; });
      const bool missing = n.outstanding != 0;
      n.awaiting.clear();
      n.outstanding = 0;
      lock.unlock();
      if (missing) {
        // Take back what JetStream did not answer; its retry carries the same message id.
        natsMsgList pending{};
        if (js_PublishAsyncGetPendingList(&pending, n.publisher) == NATS_OK) natsMsgList_Destroy(&pending);
        last_error = "JetStream did not acknowledge in time";
      }
    }
    std::size_t unacked = 0;
    for (auto& batch : outgoing_of)
      for (outgoing& o : batch)
        if (o.seq == 0) {
          ++unacked;
          if (!o.error.empty()) last_error = o.error;
        }
    if (unacked == 0 || clock::now() + retry_pause >= deadline || stopping_.load()) break;
    std::this_thread::sleep_for(retry_pause);
  }
  publishes_.fetch_add(1, std::memory_order_relaxed);
  publish_ns_.fetch_add(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - started_at).count()),
                        std::memory_order_relaxed);

  bool any_failed = false;
  for (std::size_t r = 0; r < group.size(); ++r) {
    auto& request = group[r];
    std::vector<stored_event_ptr> result;
    std::size_t stored = 0;
    for (std::size_t i = 0; i < request.batch.size(); ++i) {
      const outgoing& o = outgoing_of[r][i];
      if (o.seq == 0) {
        result.push_back(nullptr);
        continue;
      }
      // What the publisher needs: the id. The event itself reaches fan-out through the consumer.
      auto event = std::make_shared<stored_event>();
      event->seq = o.seq;
      event->id = core::event_id{epoch_, o.seq}.str();
      event->time_ms = request.now_ms;
      event->tenant = request.batch[i].tenant;
      event->topic = request.batch[i].topic;
      result.push_back(std::move(event));
      ++stored;
    }
    if (stored < result.size()) any_failed = true;
    if (!request.done) continue;
    if (stored == 0)
      request.done(core::error{std::string(log_unavailable_code),
                               "JetStream did not store the events (" + last_error + "); retry later"});
    else
      request.done(std::move(result));
  }
  std::uint64_t newest_acked = 0;
  for (auto& batch : outgoing_of)
    for (const outgoing& o : batch) newest_acked = std::max(newest_acked, o.seq);
  {
    const std::lock_guard lock(mutex_);
    stream_last_seq_ = std::max(stream_last_seq_, newest_acked);  // for the lag and for resumes
  }
  if (any_failed)
    set_unavailable("JetStream does not acknowledge publishes (" + last_error + ")");
  else
    set_unavailable(std::nullopt);
}

bool jetstream_log::fetch_range(std::uint64_t first, std::uint64_t last, std::size_t max_count,
                                std::vector<stored_event_ptr>& out) const {
  if (!nats_ || !nats_->connected.load()) return false;
  subscription_handle sub;
  if (subscribe_from(&sub.sub, nats_->admin, options_.stream, options_.subject_prefix + ".>", first) != NATS_OK) return false;
  std::size_t copied = 0;
  while (copied < max_count) {
    message_handle msg;
    if (natsSubscription_NextMsg(&msg.msg, sub.sub, api_wait_ms) != NATS_OK) return false;
    stored_event_ptr event = event_of(msg.msg, options_.subject_prefix, epoch_);
    if (!event) {
      damaged_events_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (event->seq > last) break;
    if (event->seq < first) continue;
    out.push_back(std::move(event));
    ++copied;
    if (out.back()->seq == last) break;
  }
  return true;
}

// Older than the window: from JetStream, in bounded chunks. When JetStream cannot be read the
// rest of the range is reported lost, and the client resumes once JetStream is back.
read_status jetstream_log::read(std::uint64_t after_seq, std::uint64_t up_to_seq, std::size_t max_count,
                                std::vector<stored_event_ptr>& out) const {
  const auto from_stream = [this](std::uint64_t first, std::uint64_t last, std::size_t max,
                                  std::vector<stored_event_ptr>& events) {
    return fetch_range(first, last, max, events);
  };
  return read_through_window({mutex_, window_, head_seq_, oldest_seq_}, after_seq, up_to_seq, max_count, out,
                             from_stream);
}

log_bounds jetstream_log::bounds() const {
  log_bounds result;
  const std::lock_guard lock(mutex_);
  if (started_.load(std::memory_order_acquire)) result.epoch = epoch_;
  result.head_seq = head_seq_;
  result.oldest_seq = std::min(oldest_seq_, head_seq_ + 1);
  result.size = head_seq_ >= result.oldest_seq ? head_seq_ - result.oldest_seq + 1 : 0;
  return result;
}

std::uint64_t jetstream_log::newest_known_seq() const {
  const std::lock_guard lock(mutex_);
  return std::max(head_seq_, stream_last_seq_);
}

void jetstream_log::set_listener(append_listener listener) {
  auto shared = listener ? std::make_shared<const append_listener>(std::move(listener)) : nullptr;
  const std::lock_guard lock(mutex_);
  listener_ = std::move(shared);
}

event_log::counters jetstream_log::stats() const {
  counters c;
  c.damaged_events = damaged_events_.load(std::memory_order_relaxed);
  c.has_stream = true;
  {
    const std::lock_guard lock(mutex_);
    c.stream_lag = stream_last_seq_ > head_seq_ ? stream_last_seq_ - head_seq_ : 0;
  }
  c.round_trip_ns = round_trip_ns_.load(std::memory_order_relaxed);
  c.publishes = publishes_.load(std::memory_order_relaxed);
  c.publish_ns = publish_ns_.load(std::memory_order_relaxed);
  return c;
}

}  // namespace globemeet::server::log
