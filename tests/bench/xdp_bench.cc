// sealfs-xdpbench: GETATTR over the UDP fast path answered by the XDP program
// against the same request answered by the server in user space, in one run,
// through the same veth pair (docs/benchmarks.md). Needs root.
//
// It makes two network namespaces of its own joined by a veth pair
// (198.18.0.1 and .2) and starts a two-server cluster in the first: server 1
// with --xdp in generic mode on its end of the veth (in native mode a veth
// drops XDP_TX replies unless its peer has an XDP program too), server 2
// without. It mounts the cluster there and makes a directory on each server.
// From the second namespace it then sends GETATTR datagrams for them, one at
// a time: server 1's are answered by the program (all but the first), server
// 2's by the server. --rounds rounds of --requests each, the two targets in
// turn; prints each target's figures and the ratios. Everything it made is
// removed at the end, also if it dies (the integration tests' Janitor).
#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ino.h"
#include "latency.h"
#include "local_cluster.h"
#include "netns_pair.h"
#include "report.h"
#include "udp_asker.h"
#include "xdp_wire.h"

using namespace sealfs;
using namespace sealfs::bench;
namespace fs = std::filesystem;

namespace {

struct Target {
  std::string label;
  int server = 0;
  Ino ino = 0;
  std::unique_ptr<it::UdpAsker> asker;
  Latencies lat;
  uint64_t requests = 0;
  double seconds = 0;
};

// A new directory under `mnt` whose inode lives on server `home`.
Ino DirOn(const fs::path& mnt, int home) {
  for (int i = 0; i < 64; ++i) {
    const fs::path d = mnt / fmt::format("d{}_{}", home, i);
    fs::create_directory(d);
    struct stat st;
    if (::stat(d.c_str(), &st) == 0 && HomeOf(st.st_ino) == home) return st.st_ino;
  }
  throw std::runtime_error(fmt::format("no directory landed on server {}", home));
}

// `n` GETATTR requests for t.ino, one at a time; throws on a missing or
// wrong answer.
void Run(Target& t, int n) {
  sealfs_xdp_msg req = XdpRequest(XdpGetattrKey(t.ino), 0);
  const auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    req.request_id = ++t.requests;
    const auto* p = reinterpret_cast<const uint8_t*>(&req);
    const auto t0 = Clock::now();
    auto got = t.asker->Exchange(std::span(p, sizeof(req)), std::chrono::seconds(2));
    t.lat.Add(Clock::now() - t0);
    sealfs_xdp_msg reply{};
    if (!got || got->size() != sizeof(reply))
      throw std::runtime_error(t.label + ": no answer, or a short one");
    std::memcpy(&reply, got->data(), sizeof(reply));
    if (reply.request_id != req.request_id || reply.status != 0 || reply.payload.attr.ino != t.ino)
      throw std::runtime_error(t.label + ": a wrong answer");
  }
  t.seconds += std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "sealfs-xdpbench: GETATTR over UDP answered by the XDP program and by the server, "
      "through one veth pair"};
  int requests = 20000, rounds = 5;
  std::string json_path;
  app.add_option("--requests", requests, "requests per target and round")
      ->check(CLI::Range(1, 10000000));
  app.add_option("--rounds", rounds, "rounds; each runs both targets in turn")
      ->check(CLI::Range(1, 100));
  app.add_option("--json", json_path, "append JSON lines of every figure to this file");
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  if (::geteuid() != 0) {
    fmt::print(stderr, "sealfs-xdpbench: needs root (network namespaces, veth, XDP)\n");
    return 2;
  }
  try {
    it::NetnsPair net;
    it::InNetns in_server_ns(net.server_ns());
    it::LocalCluster cluster(
        {.servers = 2,
         .log_level = "warn",
         .udp_fast_path = true,
         .server_args = {{1, {"--xdp", net.server_if(), "--xdp-mode", "generic"}}}});
    const fs::path mnt = cluster.AddMount().path();
    std::vector<Target> targets;
    targets.push_back({.label = "xdp", .server = 1, .ino = DirOn(mnt, 1)});
    targets.push_back({.label = "user-space", .server = 2, .ino = DirOn(mnt, 2)});
    {
      it::InNetns client(net.client_ns());
      for (Target& t : targets) {
        t.asker = std::make_unique<it::UdpAsker>(
            it::NetnsPair::kServerAddress, cluster.udp_port(t.server),
            UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)));
        Run(t, 100);  // warm up; fills server 1's answer
        t.lat = Latencies();
        t.seconds = 0;
        t.requests = 0;
      }
    }
    for (int r = 1; r <= rounds; ++r) {
      for (Target& t : targets) Run(t, requests);
      fmt::print("round {}/{}\n", r, rounds);
      std::fflush(stdout);
    }
    std::vector<Measurement> ms;
    for (Target& t : targets) {
      Report report("sealfs-xdpbench", t.label);
      ms.push_back({.phase = "getattr_udp",
                    .ops = t.requests,
                    .seconds = t.seconds,
                    .p50_us = t.lat.PercentileUs(0.5),
                    .p99_us = t.lat.PercentileUs(0.99)});
      report.Add(ms.back());
      if (json_path.empty()) continue;
      if (std::string err = report.WriteJson(json_path); !err.empty()) {
        fmt::print(stderr, "sealfs-xdpbench: {}\n", err);
        return 1;
      }
    }
    fmt::print("xdp vs user-space: {:.2f}x the requests/s, p50 {:.2f}x, p99 {:.2f}x\n",
               ms[0].OpsPerSecond() / ms[1].OpsPerSecond(), ms[0].p50_us / ms[1].p50_us,
               ms[0].p99_us / ms[1].p99_us);
    if (cluster.StopServer(1) != 0) fmt::print(stderr, "sealfs-xdpbench: server 1 failed\n");
  } catch (const std::exception& e) {
    fmt::print(stderr, "sealfs-xdpbench: {}\n", e.what());
    return 1;
  }
  return 0;
}
