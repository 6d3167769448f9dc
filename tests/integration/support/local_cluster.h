// A sealfs cluster for one test: a temp dir holding the cluster file, each server's data dir
// and every log; real sealfs-server processes; any number of real FUSE mounts. Destruction
// unmounts every mount, kills every server and removes the temp dir and the servers' XDP pins.
//
// Normally every server listens on 127.0.0.1. With SEALFS_TEST_XDP=generic|native (root
// only) the cluster has a network of its own (ClusterNet): every server runs in its own
// network namespace with a udp_port and its XDP program in that mode on its veth, and the
// thread that builds the cluster moves into the client namespace until the cluster is
// destroyed, so the mounts, processes and threads it starts meanwhile reach the servers
// through the veths. Build and destroy a cluster on the same thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster_file.h"
#include "cluster_net.h"
#include "fuse_mount.h"
#include "server_process.h"
#include "subprocess.h"
#include "temp_dir.h"
#include "xdp_pin_root.h"

namespace sealfs::it {

inline constexpr uint64_t kSmallChunkSize = 64 * 1024;

struct ClusterOptions {
  int servers = 3;
  std::optional<uint64_t> chunk_size;  // unset: the product default (4 MiB)
  std::string log_level = "info";
  bool udp_fast_path = false;  // every server also answers GETATTR/LOOKUP over UDP (always
                               // with SEALFS_TEST_XDP)
  std::map<int, std::vector<std::string>> server_args;  // more arguments, by server id
  // Every server's address when the cluster has no network of its own: another address of
  // the building thread's namespace than loopback makes the servers reachable from another
  // namespace (sealfs-xdpbench).
  std::string address = "127.0.0.1";
  std::chrono::milliseconds ready_timeout{15000};
};

class LocalCluster {
 public:
  // Writes the cluster file and starts every server; throws if one does not come up.
  explicit LocalCluster(ClusterOptions options = {});
  ~LocalCluster();
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  // Mounts a new client on <temp>/mnt<N> and returns it (owned by the cluster).
  FuseMount& AddMount(MountOptions options = {});

  // Server ids are 1..servers.
  void KillServer(int id);        // kill -9
  ExitStatus StopServer(int id);  // SIGTERM; throws if it does not exit within 15 s
  void StartServer(int id);       // on the same data dir; waits until ready
  void RestartServer(int id);     // StopServer + StartServer
  bool ServerRunning(int id);
  pid_t ServerPid(int id);
  // Replaces server_args[id] from the server's next start on.
  void SetServerArgs(int id, std::vector<std::string> args);
  // Adds a server (the next id) as an operator does: adds it to the cluster file and starts
  // it with that file. The others go on with the membership they have until
  // `sealfs-loader apply` publishes the file. Not in XDP mode (throws).
  int AddServer();
  // Drops server id from the cluster file as an operator does before `sealfs-loader apply`
  // removes it; the server goes on running (and is still stopped by StopAllServers).
  void RemoveFromFile(int id);
  // A copy of the cluster file without server id (for changes a test expects refused).
  std::filesystem::path FileWithout(int id) const;
  void StopAllServers();

  void StartAllServers();
  // Unmounts every client; Stop + fsck is the usual use.
  void UnmountAll();

  // Runs sealfs-fsck on the cluster (stopped, or running: see docs/operations.md), with
  // --repair if asked and any further options.
  CommandResult Fsck(bool repair = false, const std::vector<std::string>& options = {});

  // Runs sealfs-loader with `args` (the caller names the cluster file).
  CommandResult Loader(const std::vector<std::string>& args,
                       std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // The cluster secret (secret_file in the cluster file).
  std::filesystem::path secret_path() const { return dir() / "cluster.key"; }

  int server_count() const { return static_cast<int>(servers_.size()); }
  const std::string& address(int id) const;  // IPv4, dotted
  // The network namespace (ip netns) server id runs in; empty on loopback.
  const std::string& server_netns(int id) const { return servers_.at(id - 1)->netns(); }
  uint16_t port(int id) const;
  uint16_t udp_port(int id) const;  // 0 without udp_fast_path
  // Where server id pins its XDP maps (--xdp-pin-dir).
  std::filesystem::path xdp_pin_dir(int id) const { return xdp_pins_.ServerDir(id); }
  // The mode of every server's XDP program (SEALFS_TEST_XDP), or nullopt on loopback.
  std::optional<XdpMode> xdp_mode() const { return xdp_mode_; }
  const std::filesystem::path& config_path() const { return config_path_; }
  const std::filesystem::path& dir() const { return temp_.path(); }
  // The tail of every server and mount log, for failure reports.
  std::string LogTails(size_t lines_per_log = 60) const;

 private:
  ServerProcess& server(int id);
  // Everything sealfs-server id is started with besides --config, --id and --log-level.
  std::vector<std::string> ServerArgs(int id) const;
  // The process object of the server `spec` describes (not started).
  void AddServerProcess(const ServerSpec& spec);

  ClusterOptions options_;
  std::optional<XdpMode> xdp_mode_;
  std::string tag_;  // "<pid>-<n>": this cluster's, unique on the machine
  TempDir temp_;
  XdpPinRoot xdp_pins_;
  std::unique_ptr<ClusterNet> net_;        // XDP mode only
  std::unique_ptr<InNetns> in_client_ns_;  // XDP mode only; left before net_ goes
  ClusterFile file_;
  std::filesystem::path config_path_;
  std::vector<std::unique_ptr<ServerProcess>> servers_;
  std::vector<std::unique_ptr<FuseMount>> mounts_;
};

}  // namespace sealfs::it
