// Per-CPU busy time (/proc/stat) and pinning the calling thread to one CPU,
// for benchmarks that put the server and the load generator on separate cores.
#pragma once

#include <sched.h>

#include <vector>

namespace sealfs::bench {

// Seconds each CPU has spent busy since boot (user, nice, system, irq and
// softirq time; idle, iowait and steal are not counted), indexed by CPU.
// Anything that runs on a CPU counts, not only the benchmark.
std::vector<double> CpuBusySeconds();

// CPU time of process `pid` (all its threads) and of the calling thread, in
// seconds. Softirq work (such as a veth's receive and XDP) done while a
// thread runs is charged to it.
double ProcessCpuSeconds(pid_t pid);
double ThreadCpuSeconds();

// Pins the calling thread to `cpu` until destruction, then restores its
// previous CPU set. Threads and processes it starts meanwhile inherit the pin.
class PinnedToCpu {
 public:
  explicit PinnedToCpu(int cpu);
  ~PinnedToCpu();
  PinnedToCpu(const PinnedToCpu&) = delete;
  PinnedToCpu& operator=(const PinnedToCpu&) = delete;

 private:
  cpu_set_t previous_;
};

}  // namespace sealfs::bench
