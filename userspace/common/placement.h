// Placement: which server holds what.
//
// - An inode's attributes live on its home server, encoded in the inode
//   number (ino.h). A directory's entries live on the directory's home server.
// - A new directory is placed on the server the ring picks for (parent,
//   name), so directories, and the files in them, spread over the cluster.
//   Other new inodes are created on their parent directory's server, so
//   creating a file is a single-server operation.
// - File data is cut into fixed-size chunks; chunk i of inode n lives on the
//   server the ring picks for (n, i), so a large file uses every server.
//
// The ring is a consistent hash with kVirtualNodes points per member, so a
// membership change moves only about 1/N of the keys.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "cluster_config.h"
#include "ino.h"

namespace sealfs {

class Placement {
 public:
  static constexpr int kVirtualNodes = 128;

  explicit Placement(const ClusterConfig& config)
      : Placement(config.servers, config.chunk_size, config.version) {}
  Placement(const std::vector<ServerInfo>& servers, uint64_t chunk_size, uint64_t version);

  ServerId ChunkServer(Ino ino, uint64_t chunk_index) const;
  ServerId DirServer(Ino parent, std::string_view name) const;
  uint64_t chunk_size() const { return chunk_size_; }
  uint64_t version() const { return version_; }

 private:
  ServerId Pick(uint64_t hash) const;
  std::vector<std::pair<uint64_t, ServerId>> ring_;  // sorted by point
  uint64_t chunk_size_;
  uint64_t version_;
};

// The byte range [offset, offset + length) of a file split at chunk borders.
struct ChunkSpan {
  uint64_t chunk = 0;   // chunk index
  uint32_t offset = 0;  // offset inside the chunk
  uint32_t length = 0;
  uint64_t file_offset = 0;
};
std::vector<ChunkSpan> SplitIntoChunks(uint64_t offset, uint64_t length, uint64_t chunk_size);

}  // namespace sealfs
