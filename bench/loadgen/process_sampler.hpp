// CPU time and resident memory of a process, read from /proc (Linux only), and the
// generator's own CPU time, so a run can say whether the server or the generator was the limit.
#pragma once
#include <cstdint>
#include <sys/types.h>

namespace bench {

struct ProcessSample {
  bool valid = false;
  double cpu_seconds = 0;   // utime + stime
  std::uint64_t rss_bytes = 0;  // VmRSS
};

ProcessSample sample_process(pid_t pid);

// CPU seconds used by this process (all threads; the generator has one).
double own_cpu_seconds();

// Monotonic clock in nanoseconds; the clock every event timestamp uses.
std::uint64_t monotonic_ns();

}  // namespace bench
