// The cluster file: the static, versioned membership list that servers and
// clients read at start. Format (TOML), documented in docs/operations.md:
//
//   version = 1                  # membership version (epoch), >= 1
//   chunk_size = 4194304         # optional, bytes, power of two in [64 KiB, 64 MiB]
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
};

struct ClusterConfig {
  uint64_t version = 0;
  uint64_t chunk_size = kDefaultChunkSize;
  std::vector<ServerInfo> servers;  // sorted by id

  const ServerInfo* Find(ServerId id) const;
  // The root directory lives on the member with the lowest id.
  ServerId RootServer() const { return servers.front().id; }
  Ino RootIno() const { return MakeIno(RootServer(), kRootLocal); }
};

// Parses and validates a cluster file. Errors name the file and, where one
// applies, the line: "cluster.toml:7: server id 3 is listed twice".
Result<ClusterConfig> LoadClusterConfig(const std::string& path);
Result<ClusterConfig> ParseClusterConfig(std::string_view text, const std::string& source_name);

}  // namespace sealfs
