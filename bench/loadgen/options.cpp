#include "options.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>

namespace bench {

namespace {

constexpr const char* kUsage = R"(globemeet-loadgen: one-threaded WebSocket load generator (prints one JSON line per run)

  --target globemeet|nats|bun|ws   server protocol (default globemeet)
  --mode fanout|idle|slow|resume   fanout: rate steps; idle: connect, subscribe, RSS per connection;
                                   slow: some subscribers stop reading; resume: replay while live (globemeet)
  --host H --port P                server address (plain ws:// / http://)
  --cpu N                          pin the generator to CPU N
  --server-pid PID                 sample this process's CPU time and RSS
  --connections N                  subscribers (default 1000)
  --topics N                       topics events go to, round-robin (default 1)
  --wildcard                       overlapping wildcard subscriptions over the topics
  --payload-bytes N                size of each event's data object (default 128)
  --rates R1,R2,...                events per second, one step each (default 1000)
  --no-stop-on-fail                run every step even after one fails
  --warmup S --step S --drain S    seconds per step phase (0.5, 3, 2)
  --max-p99-ms MS                  p99 above this fails a step (200)
  --connect-timeout S              (60)
  --settle S                       idle: wait before the RSS sample (2)
  --slow-fraction F --slow-after S --slow-seconds S   slow mode (0.01, 3, 10)
  --slow-subscribe-all             slow mode: the slow consumers take every topic (a stalled dashboard)
  --resume-events N                resume: events behind (100000)
  --token-file F                   GlobeMeet subscriber JWT
  --publish-token-file F           GlobeMeet publisher JWT
  --label TEXT                     copied into the output
)";

std::string read_token(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string t = ss.str();
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  return t;
}

bool parse_number(std::string_view text, double& out) {
  std::string s(text);
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end != s.c_str() && *end == '\0';
}

}  // namespace

std::optional<Options> parse_options(int argc, char** argv, int& exit_code) {
  Options o;
  exit_code = 2;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") { std::fputs(kUsage, stdout); exit_code = 0; return std::nullopt; }
    if (flag == "--wildcard") { o.wildcard = true; continue; }
    if (flag == "--no-stop-on-fail") { o.stop_on_fail = false; continue; }
    if (flag == "--slow-subscribe-all") { o.slow_subscribe_all = true; continue; }
    if (i + 1 >= argc) { std::fprintf(stderr, "loadgen: %s needs a value\n", argv[i]); return std::nullopt; }
    std::string_view value = argv[++i];
    double number = 0;
    const bool numeric = parse_number(value, number);
    auto need_number = [&](double& dst) {
      if (!numeric) { std::fprintf(stderr, "loadgen: %s wants a number\n", argv[i - 1]); return false; }
      dst = number;
      return true;
    };
    auto need_int = [&](int& dst) {
      double d = 0;
      if (!need_number(d)) return false;
      dst = static_cast<int>(d);
      return true;
    };
    bool ok = true;
    if (flag == "--target") {
      auto t = parse_target(value);
      if (!t) { std::fprintf(stderr, "loadgen: unknown target %s\n", argv[i]); return std::nullopt; }
      o.target = *t;
    } else if (flag == "--mode") {
      if (value == "fanout") o.mode = Mode::fanout;
      else if (value == "idle") o.mode = Mode::idle;
      else if (value == "slow") o.mode = Mode::slow;
      else if (value == "resume") o.mode = Mode::resume;
      else { std::fprintf(stderr, "loadgen: unknown mode %s\n", argv[i]); return std::nullopt; }
    } else if (flag == "--host") o.host = value;
    else if (flag == "--port") ok = need_int(o.port);
    else if (flag == "--cpu") ok = need_int(o.cpu);
    else if (flag == "--server-pid") { int pid = 0; ok = need_int(pid); o.server_pid = pid; }
    else if (flag == "--connections") ok = need_int(o.connections);
    else if (flag == "--topics") ok = need_int(o.topics);
    else if (flag == "--payload-bytes") ok = need_int(o.payload_bytes);
    else if (flag == "--rates") {
      o.rates.clear();
      std::string list(value);
      std::stringstream ss(list);
      std::string item;
      while (std::getline(ss, item, ',')) {
        double r = 0;
        if (!parse_number(item, r) || r <= 0) { std::fprintf(stderr, "loadgen: bad rate %s\n", item.c_str()); return std::nullopt; }
        o.rates.push_back(r);
      }
      if (o.rates.empty()) { std::fputs("loadgen: --rates is empty\n", stderr); return std::nullopt; }
    } else if (flag == "--warmup") ok = need_number(o.warmup_seconds);
    else if (flag == "--step") ok = need_number(o.step_seconds);
    else if (flag == "--drain") ok = need_number(o.drain_seconds);
    else if (flag == "--max-p99-ms") ok = need_number(o.max_p99_ms);
    else if (flag == "--connect-timeout") ok = need_number(o.connect_timeout_seconds);
    else if (flag == "--settle") ok = need_number(o.settle_seconds);
    else if (flag == "--slow-fraction") ok = need_number(o.slow_fraction);
    else if (flag == "--slow-after") ok = need_number(o.slow_after_seconds);
    else if (flag == "--slow-seconds") ok = need_number(o.slow_seconds);
    else if (flag == "--resume-events") ok = need_int(o.resume_events);
    else if (flag == "--token-file") o.token = read_token(std::string(value));
    else if (flag == "--publish-token-file") o.publish_token = read_token(std::string(value));
    else if (flag == "--label") o.label = value;
    else { std::fprintf(stderr, "loadgen: unknown flag %s (see --help)\n", argv[i - 1]); return std::nullopt; }
    if (!ok) return std::nullopt;
  }
  if (o.port <= 0 || o.port > 65535) { std::fputs("loadgen: --port is required\n", stderr); return std::nullopt; }
  if (o.connections < 1 || o.topics < 1 || o.payload_bytes < 96) {
    std::fputs("loadgen: --connections and --topics must be >= 1, --payload-bytes >= 96\n", stderr);
    return std::nullopt;
  }
  if (o.target == Target::globemeet && (o.token.empty() || o.publish_token.empty())) {
    std::fputs("loadgen: globemeet needs --token-file and --publish-token-file\n", stderr);
    return std::nullopt;
  }
  if (o.mode == Mode::resume && o.target != Target::globemeet) {
    std::fputs("loadgen: resume mode exists for globemeet only (the peers have no replay)\n", stderr);
    return std::nullopt;
  }
  exit_code = 0;
  return o;
}

}  // namespace bench
