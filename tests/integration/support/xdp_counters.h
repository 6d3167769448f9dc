// The counters of a server's XDP program, read from where it pinned them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace sealfs::it {

// The per-CPU counters pinned at <pin_dir>/counters, summed over the CPUs and indexed by
// enum sealfs_xdp_counter (sealfs_xdp.h); throws if there are none.
std::vector<uint64_t> ReadXdpCounters(const std::filesystem::path& pin_dir);

}  // namespace sealfs::it
