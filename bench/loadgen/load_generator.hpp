// The generator: one thread, one epoll set, every connection non-blocking. Subscribers, the
// publisher and (GlobeMeet) the metrics poller share the loop; the publisher is paced by the
// monotonic clock between polls. Each mode prints its JSON line(s) on stdout.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "latency_histogram.hpp"
#include "options.hpp"
#include "target_protocol.hpp"
#include "ws_framing.hpp"

namespace bench {

class LoadGenerator {
 public:
  explicit LoadGenerator(Options options);
  ~LoadGenerator();
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  // Runs the configured mode; returns the process exit code.
  int run();

 private:
  enum class Role : std::uint8_t { subscriber, publisher, resumer, metrics };
  enum class Phase : std::uint8_t { connecting, upgrading, subscribing, live, closed };

  struct Connection {
    int fd = -1;
    Role role = Role::subscriber;
    Phase phase = Phase::connecting;
    bool reading = true;    // slow consumers stop
    bool measured = true;   // counted in latency and delivery figures
  bool slow = false;      // slow mode: will stop reading (and, with --slow-subscribe-all, takes every topic)
    bool http = false;      // plain HTTP/1.1 (GlobeMeet publisher and metrics)
    bool want_write = false;
    int index = 0;
    std::string in;         // bytes not parsed yet
    std::string out;        // bytes not sent yet
    std::string fragments;  // a fragmented message being assembled
    NatsStream nats;
    std::uint64_t dropped_at_ns = 0;
    int close_code = 0;     // from the server's close frame (0: none came)
  };

  // A measurement window: events sent in [start_ns, end_ns) and their deliveries.
  struct Window {
    std::uint64_t start_ns = 0;
    std::uint64_t end_ns = UINT64_MAX;
    std::uint64_t expected = 0;
    std::uint64_t delivered = 0;
    std::uint64_t published = 0;
    LatencyHistogram latency;
  };

  int run_fanout();
  int run_idle();
  int run_slow();
  int run_resume();

  // Connections and the loop.
  int open_connection(Role role, int index);
  bool connect_subscribers(double& seconds);
  bool run_until(const std::function<bool()>& done, double timeout_seconds);
  void poll_once(int timeout_ms);
  void on_event(Connection& c, std::uint32_t events);
  void on_connected(Connection& c);
  void on_bytes(Connection& c, std::string_view data);
  void on_frames(Connection& c);
  void on_message(Connection& c, std::string_view message);
  void on_delivery(Connection& c, std::string_view message);
  void on_subscribed(Connection& c);
  void on_http(Connection& c);
  void on_http_response(Connection& c, int status, std::string_view body);
  void send_message(Connection& c, std::string_view payload);
  void flush(Connection& c);
  // Re-registers the connection's epoll interest when it changed (or always, with `force`).
  void update_interest(Connection& c, bool force = false);
  void close_connection(Connection& c);
  void stop_reading(Connection& c);

  // Publishing.
  void start_publishing(double events_per_second, int first_topic = 0, int topic_count = 0);
  void stop_publishing();
  void publish_due(std::uint64_t now);
  void publish_batch(std::uint64_t now, std::uint64_t count);
  bool post_events(int topic, int count);  // GlobeMeet: one blocking batch POST (setup only)
  void poll_metrics(std::uint64_t now);

  std::uint32_t next_mask();
  void count_receivers();

  Options options_;
  SubscriptionLayout layout_;
  int epoll_fd_ = -1;
  std::vector<Connection> connections_;
  std::vector<int> subscriber_ids_;
  int publisher_id_ = -1;
  int metrics_id_ = -1;
  int resumer_id_ = -1;
  std::vector<char> scratch_;
  std::uint32_t mask_state_ = 0x9e3779b9u;

  int subscribed_ = 0;
  int failed_ = 0;
  int closed_subscribers_ = 0;
  int errors_ = 0;
  int overflows_ = 0;
  std::string first_error_;
  std::vector<std::uint64_t> receivers_;  // measured receivers per topic

  // Publisher state.
  bool publishing_ = false;
  bool publisher_ready_ = false;
  bool http_in_flight_ = false;
  std::uint64_t received_at_ns_ = 0;  // when the bytes being handled were read (CLOCK_MONOTONIC)
  double rate_ = 0;
  std::uint64_t publish_start_ns_ = 0;
  std::uint64_t generated_ = 0;  // events due so far (sent or skipped)
  std::uint64_t skipped_ = 0;    // events the publisher could not send in time
  std::uint64_t sent_total_ = 0;
  int publish_topic_first_ = 0;
  int publish_topic_count_ = 1;
  std::uint64_t publish_counter_ = 0;
  std::uint64_t publish_errors_ = 0;
  std::string last_first_id_;    // first id of the last POST's response
  std::string resume_from_;      // resume mode: the id the resuming client names

  std::vector<Window*> windows_;

  // Metrics polling (GlobeMeet slow mode): when overflow closes happened.
  bool metrics_in_flight_ = false;
  std::uint64_t next_metrics_ns_ = 0;
  std::uint64_t overflow_closes_ = 0;
  std::uint64_t first_overflow_close_ns_ = 0;
  std::uint64_t all_overflow_closed_ns_ = 0;
  int slow_count_ = 0;

  // Resume mode.
  std::uint64_t resumer_events_ = 0;
  std::int64_t replayed_count_ = -1;
  std::uint64_t replayed_at_ns_ = 0;
  std::uint64_t resumer_subscribed_ns_ = 0;
};

}  // namespace bench
