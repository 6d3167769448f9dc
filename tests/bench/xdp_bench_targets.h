// What sealfs-xdpbench measures: its targets (each a kind of request sent to
// one server, see xdp_bench.cc) and the figures it sums for each.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "closed_loop.h"
#include "latency.h"
#include "xdp_bench_bed.h"

namespace sealfs::bench {

// One target at one in-flight count, summed over the rounds.
struct Figures {
  uint64_t requests = 0;
  double seconds = 0;
  Latencies latencies;
  // Busy time of the two CPUs (whatever ran there), and CPU time of the
  // server processes and of the load generator's thread.
  double server_cpu_seconds = 0, load_cpu_seconds = 0;
  double servers_seconds = 0, load_generator_seconds = 0;
  double slowest = 0, fastest = 0;  // requests/s of the slowest and fastest round

  double PerSecond() const { return seconds > 0 ? static_cast<double>(requests) / seconds : 0; }
  double CpuUsPerRequest(double cpu_seconds) const {
    return requests ? cpu_seconds * 1e6 / static_cast<double>(requests) : 0;
  }
};

struct Target {
  std::string name;
  std::string phase;  // of the JSON lines
  bool xdp_attached;  // server 1 runs its program meanwhile
  // Server 1 is restarted right before the target's measurements in each
  // round, so that the two miss targets are measured alike on a server that
  // just started (otherwise only the one after a change of program would be).
  bool restart_first;
  std::unique_ptr<RequestTransport> transport;
  std::vector<Figures> by_inflight;  // indexed like the in-flight counts
};

// xdp-hit, user-space, tcp, miss-xdp and miss-no-xdp, in this order, with
// `inflight_counts` empty figures each. Opens their sockets in the calling
// thread's network namespace (the client's).
std::vector<Target> MakeTargets(const XdpBenchBed& bed, size_t inflight_counts);

}  // namespace sealfs::bench
