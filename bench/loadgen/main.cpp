// globemeet-loadgen: see options.cpp for the flags and load_generator.hpp for how it works.
#include <cstdio>
#include <sched.h>
#include <signal.h>

#include "load_generator.hpp"
#include "options.hpp"

int main(int argc, char** argv) {
  int exit_code = 0;
  auto options = bench::parse_options(argc, argv, exit_code);
  if (!options) return exit_code;
  signal(SIGPIPE, SIG_IGN);
  if (options->cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(options->cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) std::perror("loadgen: sched_setaffinity");
  }
  bench::LoadGenerator generator(std::move(*options));
  return generator.run();
}
