// The network of a LocalCluster in XDP mode (SEALFS_TEST_XDP=generic|native): a client
// network namespace and one namespace per server, each server's joined to the client's by a
// veth pair. Server i has 198.18.i.2/24 on kServerInterface in its namespace, its peer
// 198.18.i.1/24 in the client namespace; the client namespace forwards between the pairs and
// every server's default route points at its peer, so servers reach each other through it.
// Only addresses from 198.18.0.0/15 (reserved for benchmarks) are used. Everything is
// deleted on destruction, and by the Janitor if the test process dies. Needs root.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "native_xdp_pass.h"
#include "netns.h"

namespace sealfs::it {

enum class XdpMode { kGeneric, kNative };

// SEALFS_TEST_XDP: unset or empty gives nullopt (clusters on 127.0.0.1); "generic" or
// "native" the mode. Throws, saying why, for any other value or when not running as root.
std::optional<XdpMode> XdpModeFromEnv();
// "generic" or "native", as sealfs-server --xdp-mode takes it.
const char* XdpModeName(XdpMode mode);

class ClusterNet {
 public:
  // The server's end of its veth pair, the same name in every server namespace.
  static constexpr char kServerInterface[] = "sealfs0";

  // Servers 1..servers; `tag` makes the namespace names unique on the machine (see
  // LocalCluster). In native mode the client-side peers get a pass-through XDP program
  // (native_xdp_pass.h), without which they drop the servers' programs' answers. Throws (having
  // removed whatever it made) if a step fails.
  ClusterNet(std::string_view tag, int servers, XdpMode mode);

  const std::string& client_ns() const { return client_ns_.name(); }
  const std::string& server_ns(int id) const { return server_ns_.at(id - 1)->name(); }
  static std::string ServerAddress(int id);
  // The sealfs-server arguments that attach its XDP program to its interface.
  std::vector<std::string> ServerXdpArgs() const;
  // Detaches whatever XDP program is on server id's interface: what docs/operations.md has
  // done by hand on the machine of a server killed with kill -9 before `sealfs-fsck --repair`
  // runs on another (sealfs-fsck can only detach programs in its own network namespace).
  void DetachXdp(int id) const;

 private:
  XdpMode mode_;
  Netns client_ns_;
  std::vector<std::unique_ptr<Netns>> server_ns_;            // deleted before client_ns_
  std::vector<std::unique_ptr<NativeXdpPass>> peer_passes_;  // native mode; detached first
};

}  // namespace sealfs::it
