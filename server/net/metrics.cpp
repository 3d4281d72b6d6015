#include "metrics.hpp"

#include <cstdio>

namespace globemeet::server::net {

namespace {

std::size_t latency_bucket(double seconds) noexcept {
  for (std::size_t i = 0; i < metrics::latency_bounds.size(); ++i)
    if (seconds <= metrics::latency_bounds[i]) return i;
  return metrics::latency_bounds.size();
}

}  // namespace

void metrics::latency_tally::add(double seconds) noexcept {
  ++buckets_[latency_bucket(seconds)];
  ++count_;
  sum_ns_ += static_cast<std::uint64_t>(seconds * 1e9);
}

void metrics::observe_delivery_latencies(const latency_tally& tally) noexcept {
  if (tally.empty()) return;
  for (std::size_t i = 0; i < tally.buckets_.size(); ++i)
    if (tally.buckets_[i] != 0) latency_buckets_[i].fetch_add(tally.buckets_[i], std::memory_order_relaxed);
  latency_count_.fetch_add(tally.count_, std::memory_order_relaxed);
  latency_sum_ns_.fetch_add(tally.sum_ns_, std::memory_order_relaxed);
}

namespace {

void metric_value(std::string& out, const char* name, const char* type, const char* help, const std::string& value) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += name;
  out += ' ';
  out += value;
  out += '\n';
}

template <class Atomic>
void metric(std::string& out, const char* name, const char* type, const char* help, const Atomic& value) {
  metric_value(out, name, type, help, std::to_string(value.load(std::memory_order_relaxed)));
}

}  // namespace

std::string metrics::render() const {
  std::string out;
  metric(out, "globemeet_connections", "gauge", "Open WebSocket connections.", connections);
  metric(out, "globemeet_subscriptions", "gauge", "Topic patterns held by all connections.", subscriptions);
  metric(out, "globemeet_connections_total", "counter", "WebSocket connections accepted.", connections_total);
  metric(out, "globemeet_events_in_total", "counter", "Events accepted by POST /v1/events.", events_in);
  metric(out, "globemeet_events_out_total", "counter", "Event frames written to clients.", events_out);
  metric(out, "globemeet_replayed_total", "counter", "Event frames sent as resume replay.", replayed);
  metric(out, "globemeet_snapshot_events_total", "counter", "Event frames sent as snapshots of the current state.",
         snapshot_events);
  metric(out, "globemeet_conflated_total", "counter",
         "Queued gauge events removed because a newer one of the same topic was queued (conflation).", conflated);
  metric(out, "globemeet_dropped_total", "counter", "Queued frames discarded with a closing connection.", dropped);
  metric(out, "globemeet_overflow_closes_total", "counter", "Connections closed with 4000 for falling behind.",
         overflow_closes);
  metric(out, "globemeet_http_requests_total", "counter", "HTTP requests served.", http_requests);
  metric(out, "globemeet_handshake_refusals_total", "counter", "WebSocket handshakes refused.", handshake_refusals);
  metric(out, "globemeet_error_frames_total", "counter", "error frames sent to clients.", error_frames);

  const char* name = "globemeet_delivery_latency_seconds";
  out += "# HELP globemeet_delivery_latency_seconds From publish accepted to the event frame written, per receiver.\n";
  out += "# TYPE globemeet_delivery_latency_seconds histogram\n";
  std::uint64_t cumulative = 0;
  char bound[32];
  for (std::size_t i = 0; i <= latency_bounds.size(); ++i) {
    cumulative += latency_buckets_[i].load(std::memory_order_relaxed);
    if (i < latency_bounds.size())
      std::snprintf(bound, sizeof bound, "%g", latency_bounds[i]);
    else
      std::snprintf(bound, sizeof bound, "+Inf");
    out += std::string(name) + "_bucket{le=\"" + bound + "\"} " + std::to_string(cumulative) + "\n";
  }
  char sum[64];
  std::snprintf(sum, sizeof sum, "%.9f", static_cast<double>(latency_sum_ns_.load(std::memory_order_relaxed)) / 1e9);
  out += std::string(name) + "_sum " + sum + "\n";
  out += std::string(name) + "_count " + std::to_string(latency_count_.load(std::memory_order_relaxed)) + "\n";
  return out;
}

void metrics::render_log(std::string& out, std::uint64_t commits, std::uint64_t appends, std::uint64_t commit_ns,
                         std::uint64_t damaged_events) {
  char seconds[64];
  std::snprintf(seconds, sizeof seconds, "%.9f", static_cast<double>(commit_ns) / 1e9);
  metric_value(out, "globemeet_log_commits_total", "counter",
               "Durable log commits (one fsync each); every publish that queued meanwhile shares one.", std::to_string(commits));
  metric_value(out, "globemeet_log_committed_appends_total", "counter",
               "Publish requests stored by those commits (divided by commits: the group-commit factor).", std::to_string(appends));
  metric_value(out, "globemeet_log_commit_seconds_total", "counter",
               "Time spent in durable log commits, fsync included (divided by commits: the mean commit).", seconds);
  metric_value(out, "globemeet_log_damaged_events_total", "counter",
               "Stored events that failed their checksum or could not be read, skipped and never served.",
               std::to_string(damaged_events));
}

void metrics::render_stream(std::string& out, std::uint64_t lag, std::uint64_t round_trip_ns, std::uint64_t publishes,
                            std::uint64_t publish_ns) {
  char round_trip[64], publish_seconds[64];
  std::snprintf(round_trip, sizeof round_trip, "%.9f", static_cast<double>(round_trip_ns) / 1e9);
  std::snprintf(publish_seconds, sizeof publish_seconds, "%.9f", static_cast<double>(publish_ns) / 1e9);
  metric_value(out, "globemeet_jetstream_consumer_lag", "gauge",
               "Events in the JetStream stream that this node has not fanned out yet.", std::to_string(lag));
  metric_value(out, "globemeet_jetstream_round_trip_seconds", "gauge",
               "Round trip of the last JetStream API request (stream info, once a second).", round_trip);
  metric_value(out, "globemeet_jetstream_publishes_total", "counter",
               "Publish rounds: the events of every publish request that queued meanwhile, sent and acknowledged.",
               std::to_string(publishes));
  metric_value(out, "globemeet_jetstream_publish_seconds_total", "counter",
               "Time from sending a publish round to its last acknowledgement (divided by rounds: the mean).",
               publish_seconds);
}

}  // namespace globemeet::server::net
