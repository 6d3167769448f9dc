// The BPF maps pinned under a directory of the BPF file system (sealfs pins
// under /sys/fs/bpf/sealfs: server-<id>/ for servers' XDP programs,
// <mount id>/ for clients' --bpf caches), as `sealfs-loader bpf list` and
// `bpf counters` show them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

// Result: the common status.h (loader/status.h is `sealfs-loader status`).
#include "bpf_pins.h"

namespace sealfs {

struct PinnedMap {
  std::string path;   // <root>/<dir>/<name>
  std::string dir;    // its directory
  std::string name;   // its file name
  uint32_t id = 0;    // the kernel's map id
  uint32_t type = 0;  // enum bpf_map_type
  uint32_t max_entries = 0;
  uint32_t value_size = 0;
};

// Every map pinned under `root` (pins of programs and links are skipped),
// sorted by path. A root that does not exist holds none; one that cannot be
// read is an error.
Result<std::vector<PinnedMap>> FindPinnedMaps(const std::string& root);

// The kernel's name of a map type ("lru_hash"), or its number.
std::string MapTypeName(uint32_t type);

}  // namespace sealfs
