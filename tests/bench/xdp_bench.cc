// sealfs-xdpbench: GETATTR over the UDP fast path answered by the XDP
// program, by the server in user space and over TCP, and what the attached
// program costs the requests it does not answer (docs/benchmarks.md). Needs
// root and at least two CPUs.
//
// For each --xdp-mode it sets up an XdpBenchBed (two namespaces joined by a
// veth pair, a two-server cluster in the first, server 1 with the XDP program
// on its veth end) and measures, from the second namespace:
//   xdp-hit      GETATTR datagrams for a directory of server 1: answered by
//                the program from its map (filled by the warm-up)
//   user-space   GETATTR datagrams for a directory of server 2: server 1's
//                program, on the same interface, passes them up (another
//                port); server 2's user-space responder answers
//   tcp          GETATTR frames for server 2's directory on one TCP connection
//   miss-xdp     LOOKUP datagrams, each for a new name that does not exist in
//                server 1's directory: the program checks each, misses its
//                map and passes it up; server 1 answers ENOENT (such answers
//                are never put in the map)
//   miss-no-xdp  the same requests, server 1 restarted without its program
// each at every --inflight count; in every round, server 1 is restarted
// before each miss target, so that both run on a server just started. The
// servers (and the mount) are pinned to --server-cpu, the load generator (one
// thread keeping that many requests outstanding, closed_loop.h) to
// --load-cpu; each CPU's busy time (/proc/stat) and the CPU time of the
// servers and of the load generator are read around every measurement. A
// veth receives a frame in the softirq of the CPU that sent it, unless
// --steer-receive has the servers' end receive on --server-cpu (RPS).
// --rounds rounds, the targets in turn in each; the figures are summed over
// the rounds. Everything it made is removed at the end, also if it dies (the
// integration tests' Janitor).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "closed_loop.h"
#include "cpu_usage.h"
#include "janitor.h"
#include "netns_pair.h"
#include "report.h"
#include "xdp_bench_bed.h"
#include "xdp_bench_targets.h"

using namespace sealfs;
using namespace sealfs::bench;

namespace {

constexpr uint64_t kWarmupRequests = 1000;  // before every measurement, not counted

struct Options {
  uint64_t requests = 50000;
  int rounds = 5;
  std::vector<int> inflight = {1, 32};
  std::vector<std::string> modes = {"generic", "native"};
  int server_cpu = 0;
  int load_cpu = 1;
  bool steer_receive = false;
  std::string json_path;
};

double ServersCpuSeconds(const XdpBenchBed& bed) {
  double sum = 0;
  for (pid_t pid : bed.server_pids()) sum += ProcessCpuSeconds(pid);
  return sum;
}

// One measurement of `t` at `inflight`, added to `*f`.
void Measure(const XdpBenchBed& bed, Target& t, int inflight, const Options& o, Figures* f) {
  RunClosedLoop(*t.transport, inflight, kWarmupRequests);
  const std::vector<double> before = CpuBusySeconds();
  const double servers_before = ServersCpuSeconds(bed), thread_before = ThreadCpuSeconds();
  LoadResult r = RunClosedLoop(*t.transport, inflight, o.requests);
  const double servers_after = ServersCpuSeconds(bed), thread_after = ThreadCpuSeconds();
  const std::vector<double> after = CpuBusySeconds();
  const double rate = static_cast<double>(r.requests) / r.seconds;
  f->slowest = f->requests ? std::min(f->slowest, rate) : rate;
  f->fastest = std::max(f->fastest, rate);
  f->requests += r.requests;
  f->seconds += r.seconds;
  f->latencies.Merge(r.latencies);
  f->server_cpu_seconds += after.at(o.server_cpu) - before.at(o.server_cpu);
  f->load_cpu_seconds += after.at(o.load_cpu) - before.at(o.load_cpu);
  f->servers_seconds += servers_after - servers_before;
  f->load_generator_seconds += thread_after - thread_before;
}

// Every round of one mode; returns the targets with their figures.
std::vector<Target> RunMode(const std::string& mode, const Options& o) {
  XdpBenchBed bed(mode, o.server_cpu, o.steer_receive);
  std::vector<Target> targets;
  {
    it::InNetns client(bed.client_ns());
    targets = MakeTargets(bed, o.inflight.size());
  }
  for (int round = 1; round <= o.rounds; ++round) {
    std::string line = fmt::format("{} round {}/{}, requests/s:", mode, round, o.rounds);
    for (Target& t : targets) {
      if (t.restart_first)
        bed.RestartServer1(t.xdp_attached);
      else
        bed.AttachXdp(t.xdp_attached);
      it::InNetns client(bed.client_ns());
      PinnedToCpu pinned(o.load_cpu);
      line += " " + t.name;
      for (size_t i = 0; i < o.inflight.size(); ++i) {
        Figures& f = t.by_inflight[i];
        const uint64_t requests_before = f.requests;
        const double seconds_before = f.seconds;
        Measure(bed, t, o.inflight[i], o, &f);
        line += fmt::format(" {:.0f}", static_cast<double>(f.requests - requests_before) /
                                           (f.seconds - seconds_before));
      }
    }
    fmt::print("{}\n", line);
    std::fflush(stdout);
  }
  return targets;
}

void PrintTable(const std::string& mode, std::vector<Target>& targets, const Options& o) {
  fmt::print(
      "\n{} mode{}.\nCPU us per request: busy time of the servers' CPU ({}) and the load\n"
      "generator's CPU ({}), whatever ran there; CPU time of the two server processes and\n"
      "of the load generator thread.\n",
      mode, o.steer_receive ? ", receive steered to the servers' CPU" : "", o.server_cpu,
      o.load_cpu);
  fmt::print("{:<12} {:>8} {:>10} {:>15} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9}\n", "target",
             "inflight", "requests/s", "rounds min-max", "p50 us", "p99 us", "srv CPU", "load CPU",
             "servers", "load gen");
  for (Target& t : targets) {
    for (size_t i = 0; i < o.inflight.size(); ++i) {
      Figures& f = t.by_inflight[i];
      fmt::print(
          "{:<12} {:>8} {:>10.0f} {:>7.0f}-{:<7.0f} {:>8.1f} {:>8.1f} {:>9.2f} {:>9.2f} "
          "{:>9.2f} {:>9.2f}\n",
          t.name, o.inflight[i], f.PerSecond(), f.slowest, f.fastest, f.latencies.PercentileUs(0.5),
          f.latencies.PercentileUs(0.99), f.CpuUsPerRequest(f.server_cpu_seconds),
          f.CpuUsPerRequest(f.load_cpu_seconds), f.CpuUsPerRequest(f.servers_seconds),
          f.CpuUsPerRequest(f.load_generator_seconds));
    }
  }
}

const Target& Named(const std::vector<Target>& targets, const std::string& name) {
  for (const Target& t : targets)
    if (t.name == name) return t;
  throw std::logic_error("no target " + name);
}

// "a / b" at every in-flight count: requests/s, p50 and p99.
void PrintRatio(const std::vector<Target>& targets, const std::string& a, const std::string& b,
                const Options& o) {
  fmt::print("{} / {}:", a, b);
  for (size_t i = 0; i < o.inflight.size(); ++i) {
    // Copies: PercentileUs reorders the samples.
    Figures fa = Named(targets, a).by_inflight[i], fb = Named(targets, b).by_inflight[i];
    fmt::print("{} {} in flight {:.2f}x the requests/s, p50 {:.2f}x, p99 {:.2f}x", i ? ";" : "",
               o.inflight[i], fa.PerSecond() / fb.PerSecond(),
               fa.latencies.PercentileUs(0.5) / fb.latencies.PercentileUs(0.5),
               fa.latencies.PercentileUs(0.99) / fb.latencies.PercentileUs(0.99));
  }
  fmt::print("\n");
}

// Appends every figure of the mode to --json (stdout when not given).
std::string WriteJson(const std::string& mode, std::vector<Target>& targets, const Options& o) {
  for (Target& t : targets) {
    Report report("sealfs-xdpbench",
                  fmt::format("{} ({}{})", t.name, mode, o.steer_receive ? ", steered" : ""),
                  false);
    for (size_t i = 0; i < o.inflight.size(); ++i) {
      Figures& f = t.by_inflight[i];
      report.Add(
          {.phase = t.phase,
           .threads = o.inflight[i],
           .ops = f.requests,
           .seconds = f.seconds,
           .p50_us = f.latencies.PercentileUs(0.5),
           .p99_us = f.latencies.PercentileUs(0.99),
           .extra = {{"server_cpu_us_per_op", f.CpuUsPerRequest(f.server_cpu_seconds)},
                     {"load_cpu_us_per_op", f.CpuUsPerRequest(f.load_cpu_seconds)},
                     {"servers_us_per_op", f.CpuUsPerRequest(f.servers_seconds)},
                     {"load_generator_us_per_op", f.CpuUsPerRequest(f.load_generator_seconds)},
                     {"slowest_round_ops_per_s", f.slowest},
                     {"fastest_round_ops_per_s", f.fastest}}});
    }
    if (std::string err = report.WriteJson(o.json_path); !err.empty()) return err;
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "sealfs-xdpbench: GETATTR answered by the XDP program, by the server over UDP and over "
      "TCP, and the program's cost to requests it misses, through a veth pair (needs root)"};
  Options o;
  app.add_option("--requests", o.requests, "requests per target, in-flight count and round")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100000000}))
      ->capture_default_str();
  app.add_option("--rounds", o.rounds, "rounds; each measures every target in turn")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--inflight", o.inflight, "requests in flight, e.g. 1,32")
      ->delimiter(',')
      ->check(CLI::Range(1, kMaxInflight))
      ->capture_default_str();
  app.add_option("--xdp-mode", o.modes,
                 "how server 1 attaches its program: generic, native or both (generic,native), "
                 "one after the other")
      ->delimiter(',')
      ->check(CLI::IsMember({"generic", "native"}))
      ->capture_default_str();
  app.add_option("--server-cpu", o.server_cpu, "CPU the servers are pinned to")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--load-cpu", o.load_cpu, "CPU the load generator is pinned to")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag("--steer-receive", o.steer_receive,
               "steer (RPS) the receive processing of the servers' veth end to --server-cpu, "
               "as a NIC's interrupts would be on a server's own CPUs (generic mode: the XDP "
               "program runs there too); otherwise a frame is received on the CPU that sent it");
  app.add_option("--json", o.json_path,
                 "append the JSON lines of every figure to this file instead of stdout");
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  if (::geteuid() != 0) {
    fmt::print(stderr, "sealfs-xdpbench: needs root (network namespaces, veth, XDP)\n");
    return 2;
  }
  const int cpus = static_cast<int>(std::thread::hardware_concurrency());
  if (o.server_cpu == o.load_cpu || o.server_cpu >= cpus || o.load_cpu >= cpus) {
    fmt::print(stderr, "sealfs-xdpbench: --server-cpu and --load-cpu must be two CPUs of 0..{}\n",
               cpus - 1);
    return 2;
  }
  it::Janitor::Get();  // before any thread starts
  try {
    for (const std::string& mode : o.modes) {
      std::vector<Target> targets = RunMode(mode, o);
      PrintTable(mode, targets, o);
      PrintRatio(targets, "xdp-hit", "user-space", o);
      PrintRatio(targets, "xdp-hit", "tcp", o);
      PrintRatio(targets, "user-space", "tcp", o);
      PrintRatio(targets, "miss-xdp", "miss-no-xdp", o);
      fmt::print("\n");
      if (std::string err = WriteJson(mode, targets, o); !err.empty()) {
        fmt::print(stderr, "sealfs-xdpbench: {}\n", err);
        return 1;
      }
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "sealfs-xdpbench: {}\n", e.what());
    return 1;
  }
  return 0;
}
