// Command-line options of globemeet-loadgen (`--help` lists them).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "target_protocol.hpp"

namespace bench {

enum class Mode { fanout, idle, slow, resume };

struct Options {
  Target target = Target::globemeet;
  Mode mode = Mode::fanout;
  std::string host = "127.0.0.1";
  int port = 0;
  int cpu = -1;                      // pin the generator to this CPU; -1 leaves it alone
  pid_t server_pid = 0;              // sampled for CPU time and RSS
  int connections = 1000;
  int topics = 1;                    // events go round-robin over this many topics
  bool wildcard = false;             // overlapping wildcard subscriptions (workload 2)
  int payload_bytes = 128;           // size of the event data object
  std::vector<double> rates{1000};   // events per second, one measurement step each
  bool stop_on_fail = true;          // stop stepping after the first failing step
  double warmup_seconds = 0.5;
  double step_seconds = 3;
  double drain_seconds = 2;
  double max_p99_ms = 200;
  double connect_timeout_seconds = 60;
  double settle_seconds = 2;         // idle mode: wait before reading RSS
  double slow_fraction = 0.01;       // slow mode: share of subscribers that stop reading
  double slow_after_seconds = 3;     // slow mode: reading phase before they stop
  double slow_seconds = 10;          // slow mode: phase with the slow consumers
  bool slow_subscribe_all = false;   // slow mode: the slow consumers subscribe to every topic
  int resume_events = 100000;        // resume mode: events the resuming client is behind
  std::string token;                 // GlobeMeet subscriber JWT
  std::string publish_token;         // GlobeMeet publisher JWT (pub: true)
  std::string label;
};

// Parses argv; prints usage or an error and returns nullopt when the run should not start
// (`exit_code` tells which).
std::optional<Options> parse_options(int argc, char** argv, int& exit_code);

}  // namespace bench
