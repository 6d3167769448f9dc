// sealfs-rpcbench: round-trip latency and throughput of the sealfs protocol
// itself, without FUSE: PING (empty payload) and GETATTR of the root inode
// sent to one server through the project's RpcChannel, with 1, 32, ...
// requests in flight (one synchronous caller thread per request in flight,
// all multiplexed over the channel's one connection).
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "cluster_config.h"
#include "logging.h"
#include "messages.h"
#include "parallel.h"
#include "report.h"
#include "rpc_channel.h"

using namespace sealfs;
using namespace sealfs::bench;

namespace {

// One request of the benchmark; returns "" or what went wrong.
using Request = std::function<std::string(RpcChannel&)>;

std::string Ping(RpcChannel& ch) {
  Result<Reply> r = ch.Call(Op::kPing, {}, {}, true);
  if (!r.ok()) return r.status().message();
  if (r->status != 0) return fmt::format("PING: server answered errno {}", r->status);
  return "";
}

Request GetattrOf(Ino ino) {
  return [ino](RpcChannel& ch) -> std::string {
    InoReq req{.ino = ino};
    Attr attr;
    Status s = ch.Call(Op::kGetattr, req, &attr, true);
    if (!s.ok()) return fmt::format("GETATTR {:#x}: {}", ino, s.ToString());
    return "";
  };
}

// Sends `total` requests from `inflight` threads and records the phase.
std::string Measure(RpcChannel& ch, const std::string& phase, const Request& request, int inflight,
                    uint64_t total, Report* report) {
  PhaseResult r = RunParallel(inflight, [&](int t, Latencies& lat) -> std::string {
    Slice s = SliceOf(total, inflight, t);
    lat.Reserve(s.end - s.begin);
    for (uint64_t i = s.begin; i < s.end; ++i) {
      std::string err = Timed(lat, [&] { return request(ch); });
      if (!err.empty()) return err;
    }
    return "";
  });
  if (!r.error.empty()) return r.error;
  report->Add(Measurement{.phase = phase,
                          .threads = inflight,
                          .ops = total,
                          .seconds = r.seconds,
                          .p50_us = r.latencies.PercentileUs(0.50),
                          .p99_us = r.latencies.PercentileUs(0.99)});
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sealfs-rpcbench: round-trip latency and throughput of the sealfs protocol"};
  std::string config_path, label, json_path;
  int server_id = 0, timeout_ms = 3000;
  uint64_t requests = 100000, warmup = 1000;
  std::vector<int> inflight = {1, 32};
  app.add_option("-c,--config", config_path, "cluster file (TOML)")->required();
  app.add_option("--server", server_id, "id of the server to measure (default: the root server)");
  app.add_option("--requests", requests, "requests per measurement")
      ->check(CLI::Range(1ull, 100000000ull));
  app.add_option("--warmup", warmup, "untimed requests sent first");
  app.add_option("--inflight", inflight, "requests in flight (caller threads), e.g. 1,32")
      ->delimiter(',')
      ->check(CLI::Range(1, 1024));
  app.add_option("--timeout-ms", timeout_ms, "a request without a reply in this time fails")
      ->check(CLI::Range(100, 600000));
  app.add_option("--label", label, "name of the target in the output (default: the server)");
  app.add_option("--json", json_path, "append the JSON lines to this file instead of stdout");
  CLI11_PARSE(app, argc, argv);

  if (Status s = SetupLogging("sealfs-rpcbench", "warn"); !s.ok()) {
    fmt::print(stderr, "sealfs-rpcbench: {}\n", s.message());
    return 2;
  }
  Result<ClusterConfig> config = LoadClusterConfig(config_path);
  if (!config.ok()) {
    fmt::print(stderr, "sealfs-rpcbench: {}\n", config.status().message());
    return 2;
  }
  if (server_id == 0) server_id = config->RootServer();
  const ServerInfo* server = config->Find(static_cast<ServerId>(server_id));
  if (!server) {
    fmt::print(stderr, "sealfs-rpcbench: --server {}: no such server in {}\n", server_id,
               config_path);
    return 2;
  }

  RpcChannel channel(*server, config->version, std::chrono::milliseconds(timeout_ms));
  std::string err;
  Report report("sealfs-rpcbench", label.empty() ? fmt::format("server {}", server_id) : label);
  // GETATTR of the root is a LevelDB read on the root server; other servers
  // do not hold the root inode, so only the root server is asked.
  std::vector<std::pair<std::string, Request>> requests_by_phase = {{"ping", Ping}};
  if (static_cast<ServerId>(server_id) == config->RootServer())
    requests_by_phase.emplace_back("getattr", GetattrOf(config->RootIno()));
  // The first warm-up request also connects; its error names the server.
  for (const auto& [phase, request] : requests_by_phase) {
    for (uint64_t i = 0; err.empty() && i < warmup; ++i) err = request(channel);
    for (int n : inflight) {
      if (err.empty()) err = Measure(channel, phase, request, n, requests, &report);
    }
  }

  if (std::string json_err = report.WriteJson(json_path); err.empty()) err = json_err;
  if (!err.empty()) {
    fmt::print(stderr, "sealfs-rpcbench: {}\n", err);
    return 1;
  }
  return 0;
}
