#include "process_sampler.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <unistd.h>

namespace bench {

namespace {
std::string read_small_file(const std::string& path) {
  std::string text;
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return text;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  std::fclose(f);
  return text;
}
}  // namespace

ProcessSample sample_process(pid_t pid) {
  ProcessSample sample;
  if (pid <= 0) return sample;
  const std::string base = "/proc/" + std::to_string(pid);
  const std::string stat = read_small_file(base + "/stat");
  // The command name is in parentheses and may hold spaces: fields count from the last ')'.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return sample;
  const char* p = stat.c_str() + close + 2;  // field 3 (state)
  unsigned long long utime = 0, stime = 0;
  for (int field = 3; field <= 15 && *p != '\0'; ++field) {
    char* end = nullptr;
    if (field == 14) utime = std::strtoull(p, &end, 10);
    else if (field == 15) stime = std::strtoull(p, &end, 10);
    const char* space = std::strchr(p, ' ');
    if (space == nullptr) break;
    p = space + 1;
  }
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  sample.cpu_seconds = static_cast<double>(utime + stime) / ticks;
  const std::string status = read_small_file(base + "/status");
  const auto rss = status.find("VmRSS:");
  if (rss != std::string::npos) sample.rss_bytes = std::strtoull(status.c_str() + rss + 6, nullptr, 10) * 1024;
  sample.valid = true;
  return sample;
}

double own_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace bench
