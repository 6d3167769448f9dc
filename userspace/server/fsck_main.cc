// sealfs-fsck: checks the namespace of a sealfs cluster, stopped or running.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <set>

#include "fsck.h"
#include "fsck_online.h"
#include "logging.h"
#include "xdp_program.h"

using namespace sealfs;

namespace {

// Opens every member's stores; the servers must be stopped (LevelDB's lock).
// With `repair`, removes what killed --xdp servers left, looking for server N's
// pins in <xdp_pin_root>/server-N.
int CheckStopped(const ClusterConfig& config, const std::string& config_path, bool repair,
                 const std::string& xdp_pin_root) {
  std::map<ServerId, ServerStores> stores;
  for (const ServerInfo& s : config.servers) {
    if (s.data_dir.empty()) {
      std::cerr << "sealfs-fsck: server " << s.id << " has no data_dir in " << config_path << "\n";
      return 2;
    }
    auto meta = MetaStore::Open(s.data_dir + "/meta", s.id);
    if (!meta.ok()) {
      std::cerr << "sealfs-fsck: server " << s.id << ": " << meta.status().message()
                << " (is the server still running? --offline needs a stopped cluster)\n";
      return 2;
    }
    auto chunks = ChunkStore::Open(s.data_dir + "/chunks", config.chunk_size);
    if (!chunks.ok()) {
      std::cerr << "sealfs-fsck: server " << s.id << ": " << chunks.status().message() << "\n";
      return 2;
    }
    stores[s.id] = ServerStores{std::move(*meta), std::move(*chunks)};
    // A killed --xdp server's program would go on answering what the repair
    // changes (only on this machine's interfaces; docs/operations.md).
    if (repair) XdpProgram::RemoveEarlierRun(XdpProgram::PinDir(s.id, xdp_pin_root));
  }
  ClusterConfig membership = config;
  TakeStoredMembership(stores, &membership);
  Result<Fsck::Report> r = CheckStoppedCluster(membership, &stores, repair, &std::cout);
  if (!r.ok()) {
    std::cerr << "sealfs-fsck: " << r.status().message() << "\n";
    return 2;
  }
  std::cout << fmt::format(
      "sealfs-fsck: {} stopped servers, {} problems, {} repaired, {} pending intents\n",
      stores.size(), r->problems, r->repaired, r->pending_intents);
  return r->problems == r->repaired ? 0 : 1;
}

int CheckRunning(const ClusterConfig& config, RpcSource* source, int settle_ms) {
  Result<Fsck::Report> r =
      CheckRunningCluster(config, source, std::chrono::milliseconds(settle_ms), &std::cout);
  if (!r.ok()) {
    std::cerr << "sealfs-fsck: " << r.status().message() << "\n";
    return 2;
  }
  std::cout << fmt::format(
      "sealfs-fsck: {} running servers, {} problems (present in two scans {} ms apart), {} "
      "operations in flight\n",
      config.servers.size(), r->problems, settle_ms, r->pending_intents);
  return r->problems == 0 ? 0 : 1;
}

std::string Ids(const std::set<ServerId>& ids) {
  std::string out;
  for (ServerId id : ids) out += (out.empty() ? "" : ", ") + std::to_string(id);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "sealfs-fsck: check a sealfs cluster, stopped or running (with --repair, fix a stopped "
      "one).\n"
      "By default it PINGs every server: if all answer, the running cluster is checked through "
      "its servers (read-only; only problems present in two scans --settle-ms apart are "
      "reported); if none answers, the servers' data_dirs are read directly; if only some answer, "
      "it names the others and exits with 2.\n"
      "Exit status: 0 consistent (or fully repaired), 1 problems found, 2 could not check."};
  std::string config_path, xdp_pin_root = XdpProgram::kDefaultPinRoot;
  bool repair = false, online = false, offline = false;
  int settle_ms = 2000, timeout_ms = 10000;
  app.add_option("-c,--config", config_path, "cluster file (TOML)")->required();
  app.add_flag("--repair", repair, "fix what is found (stopped cluster only)");
  auto* on =
      app.add_flag("--online", online, "check the running cluster; fail if a server is down");
  app.add_flag("--offline", offline, "read the data_dirs of the stopped cluster without asking")
      ->excludes(on);
  app.add_option("--settle-ms", settle_ms, "online: pause between the two scans")
      ->check(CLI::Range(0, 600000));
  app.add_option("--timeout-ms", timeout_ms, "online: timeout of each request to a server")
      ->check(CLI::Range(100, 600000));
  app.add_option("--xdp-pin-root", xdp_pin_root,
                 "repair: look for the pins of server N's XDP program in DIR/server-N (for "
                 "servers started with --xdp-pin-dir DIR/server-N)")
      ->type_name("DIR")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  (void)SetupLogging("sealfs-fsck", "warn");

  Result<ClusterConfig> config = LoadClusterConfig(config_path);
  if (!config.ok()) {
    std::cerr << "sealfs-fsck: " << config.status().message() << "\n";
    return 2;
  }
  if (offline) return CheckStopped(*config, config_path, repair, xdp_pin_root);
  if (online && repair) {
    std::cerr << "sealfs-fsck: stop the cluster first: sealfs-fsck --repair works on stopped "
                 "servers; online mode only reports\n";
    return 2;
  }

  RpcSource source(*config, std::chrono::milliseconds(timeout_ms));
  std::vector<std::pair<ServerId, Status>> down = source.Ping();
  if (down.size() == config->servers.size() && !online)
    return CheckStopped(*config, config_path, repair, xdp_pin_root);
  if (!down.empty()) {
    std::set<ServerId> up, silent;
    for (const ServerInfo& s : config->servers) up.insert(s.id);
    for (const auto& [id, status] : down) {
      std::cerr << "sealfs-fsck: " << status.message() << "\n";
      up.erase(id);
      silent.insert(id);
    }
    if (up.empty())
      std::cerr << "sealfs-fsck: cannot check online: no server answers (leave out --online to "
                   "check a stopped cluster)\n";
    else
      std::cerr << "sealfs-fsck: cannot check: server(s) " << Ids(silent) << " do not answer but "
                << Ids(up)
                << " do; start them for an online check, or stop every server for an offline "
                   "one\n";
    return 2;
  }
  if (repair) {
    std::cerr << "sealfs-fsck: the servers are running: stop the cluster first: sealfs-fsck "
                 "--repair works on stopped servers; online mode only reports\n";
    return 2;
  }
  return CheckRunning(source.membership(), &source, settle_ms);
}
