// The cluster file: the static, versioned membership list that servers and
// clients read at start. Format (TOML), documented in docs/operations.md:
//
//   version = 1                  # membership version (epoch), >= 1
//   chunk_size = 4194304         # optional, bytes, power of two in [64 KiB, 64 MiB]
//   root_server = 1              # optional: the member holding "/" (default: lowest id)
//   secret_file = "cluster.key"  # optional: the cluster secret (cluster_secret.h),
//                                # relative to the cluster file's directory
//   [[server]]
//   id = 1                       # stable id, 1..65535, never reused
//   address = "127.0.0.1"
//   port = 7101
//   udp_port = 7102              # optional: GETATTR/LOOKUP over UDP (the fast path)
//   data_dir = "/var/lib/sealfs/1"
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ino.h"
#include "status.h"

namespace sealfs {

inline constexpr uint64_t kDefaultChunkSize = 4u << 20;

struct ServerInfo {
  ServerId id = 0;
  std::string address;
  uint16_t port = 0;
  uint16_t udp_port = 0;  // 0: no UDP fast path (docs/protocol.md, "UDP fast path")
  std::string data_dir;
  bool operator==(const ServerInfo&) const = default;
  template <class V>
  void Fields(V& v) {
    v(id, address, port, udp_port, data_dir);
  }
};

// A server that was removed: the inodes numbered with its id (ino.h) are
// served by `host`, a member, which holds their records - or copies them
// from `from`, a leaving server, in the membership that moves them.
struct RetiredServer {
  ServerId id = 0;
  ServerId host = 0;
  ServerId from = 0;  // 0 once the records are at `host`
  bool operator==(const RetiredServer&) const = default;
  template <class V>
  void Fields(V& v) {
    v(id, host, from);
  }
};

// A membership: what the cluster file says, and what the loader publishes
// (membership.h).
struct ClusterConfig {
  uint64_t version = 0;
  uint64_t chunk_size = kDefaultChunkSize;
  ServerId root_server = 0;  // the root directory's home; never changes
  // Absolute, or empty: this process cannot sign or check membership changes.
  // Local to the machine: not part of a published membership.
  std::string secret_file;
  std::vector<ServerInfo> servers;  // sorted by id
  // Set by the loader when the servers changed: the servers chunks are
  // moving from (their placement), until every chunk sits where `servers`
  // place it. Not in cluster files.
  std::vector<ServerInfo> moving_from;
  // Set by the loader: every server ever removed, sorted by id. Not in
  // cluster files.
  std::vector<RetiredServer> retired;

  const ServerInfo* Find(ServerId id) const;
  // A server chunks move from (moving_from); null if none has this id.
  const ServerInfo* FindSource(ServerId id) const;
  // The member that serves the metadata of inodes numbered with `home`:
  // `home` itself, or the host of a retired server; 0 if neither.
  ServerId HostOf(ServerId home) const;
  // True while `id` is leaving: chunks move from it but it is no member.
  bool Leaving(ServerId id) const { return !Find(id) && FindSource(id); }
  ServerId RootServer() const { return root_server; }
  Ino RootIno() const { return MakeIno(root_server, kRootLocal); }
  // The published membership (membership.h).
  template <class V>
  void Fields(V& v) {
    v(version, chunk_size, root_server, servers, moving_from, retired);
  }
};

// Parses and validates a cluster file. Errors name the file and, where one
// applies, the line: "cluster.toml:7: server id 3 is listed twice". A
// relative secret_file is taken from `base_dir`.
Result<ClusterConfig> LoadClusterConfig(const std::string& path);
Result<ClusterConfig> ParseClusterConfig(std::string_view text, const std::string& source_name,
                                         const std::string& base_dir = ".");

// The rules every membership keeps, however it was made: a version, a chunk
// size that is a power of two in range, at least one server, ids unique and
// in order, no address:port twice, the root server a member, every retired
// server no member and hosted by one.
Status CheckClusterConfig(const ClusterConfig& config);

}  // namespace sealfs
