// The setting sealfs-xdpbench measures in, for one XDP mode: two network
// namespaces of its own joined by a veth pair (198.18.0.1 and .2), and in the
// first a two-server cluster listening on 198.18.0.1, with every server
// process pinned to one CPU: server 1 with the XDP program on its end of the
// veth (it sees the traffic of both servers), server 2 with the UDP fast path
// but no program of its own. A directory is made on each server through a
// mount in the first namespace. In native mode the client's end gets an
// XDP_PASS program (native_xdp_pass.h). Everything is removed on
// destruction (the cluster removes its XDP pins), and by the Janitor if the
// process dies.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "ino.h"
#include "local_cluster.h"
#include "native_xdp_pass.h"
#include "netns_pair.h"

namespace sealfs::bench {

class XdpBenchBed {
 public:
  // `mode`: "native" or "generic". `steer_receive`: the server end's receive
  // processing is steered (RPS) to `server_cpu`, as a NIC's interrupts would
  // be on a server's own CPUs; otherwise a frame is received on the CPU that
  // sent it. Throws if a step fails.
  XdpBenchBed(const std::string& mode, int server_cpu, bool steer_receive);
  // Stops server 1 with SIGTERM, so that it detaches its program.
  ~XdpBenchBed();
  XdpBenchBed(const XdpBenchBed&) = delete;
  XdpBenchBed& operator=(const XdpBenchBed&) = delete;

  // Restarts server 1 with its XDP program attached or with none, unless it
  // runs so already.
  void AttachXdp(bool attached);
  // Restarts server 1, with its XDP program attached or with none.
  void RestartServer1(bool xdp_attached);

  const std::string& client_ns() const { return net_.client_ns(); }
  static constexpr const char* server_address() { return it::NetnsPair::kServerAddress; }
  uint16_t tcp_port(int server) const { return cluster_->port(server); }
  uint16_t udp_port(int server) const { return cluster_->udp_port(server); }
  // The cluster file's version: the epoch of TCP requests.
  static constexpr uint64_t kEpoch = 1;
  // Both servers' processes.
  std::vector<pid_t> server_pids() const {
    return {cluster_->ServerPid(1), cluster_->ServerPid(2)};
  }
  // A directory whose inode lives on `server` (1 or 2).
  Ino dir_on(int server) const { return server == 1 ? dir1_ : dir2_; }

 private:
  void SteerReceive();
  void StartCluster();
  std::vector<std::string> XdpArgs() const;

  const std::string mode_;
  const int server_cpu_;
  it::NetnsPair net_;
  std::optional<it::NativeXdpPass> client_pass_;
  std::unique_ptr<it::LocalCluster> cluster_;
  bool attached_ = true;
  Ino dir1_ = 0, dir2_ = 0;
};

}  // namespace sealfs::bench
