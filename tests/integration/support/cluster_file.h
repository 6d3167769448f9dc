// The cluster membership file (TOML) that sealfs-server, sealfs-mount and sealfs-fsck read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sealfs::it {

struct ServerSpec {
  int id = 0;
  std::string address = "127.0.0.1";  // IPv4, dotted
  uint16_t port = 0;
  std::filesystem::path data_dir;
  uint16_t udp_port = 0;  // 0: none (no UDP fast path)
};

struct ClusterFile {
  int version = 1;
  std::optional<uint64_t> chunk_size;  // unset: the product default
  std::filesystem::path secret_file;   // empty: none
  std::vector<ServerSpec> servers;

  void Write(const std::filesystem::path& path) const;
};

}  // namespace sealfs::it
