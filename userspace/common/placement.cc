#include "placement.h"

#include <xxhash.h>

#include <algorithm>

namespace sealfs {
namespace {

uint64_t HashPair(uint64_t a, uint64_t b) {
  uint64_t in[2] = {a, b};
  return XXH3_64bits(in, sizeof in);
}

}  // namespace

Placement::Placement(const std::vector<ServerInfo>& servers, uint64_t chunk_size, uint64_t version)
    : chunk_size_(chunk_size), version_(version) {
  for (const ServerInfo& s : servers) {
    for (int v = 0; v < kVirtualNodes; ++v) ring_.emplace_back(HashPair(s.id, v), s.id);
  }
  std::sort(ring_.begin(), ring_.end());
}

ServerId Placement::Pick(uint64_t hash) const {
  auto it = std::lower_bound(ring_.begin(), ring_.end(), std::make_pair(hash, ServerId{0}));
  if (it == ring_.end()) it = ring_.begin();
  return it->second;
}

ServerId Placement::ChunkServer(Ino ino, uint64_t chunk_index) const {
  return Pick(HashPair(ino, chunk_index));
}

ServerId Placement::DirServer(Ino parent, std::string_view name) const {
  return Pick(HashPair(parent, XXH3_64bits(name.data(), name.size())));
}

std::vector<ChunkSpan> SplitIntoChunks(uint64_t offset, uint64_t length, uint64_t chunk_size) {
  std::vector<ChunkSpan> spans;
  uint64_t end = offset + length;
  while (offset < end) {
    uint64_t chunk = offset / chunk_size;
    uint64_t in_chunk = offset % chunk_size;
    uint64_t n = std::min(end - offset, chunk_size - in_chunk);
    spans.push_back({chunk, static_cast<uint32_t>(in_chunk), static_cast<uint32_t>(n), offset});
    offset += n;
  }
  return spans;
}

}  // namespace sealfs
