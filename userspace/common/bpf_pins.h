// Pinned BPF maps: preparing and clearing a pin directory on the BPF file
// system, and summing per-CPU counters. Shared by the client's --bpf cache and
// the server's XDP fast path.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "status.h"

namespace sealfs {

// dir + "/" + name.
std::string PinPath(const std::string& dir, const char* name);

// Creates dir and its parents, checks that it is on a BPF file system, and
// removes the pins `names` that an earlier run left there.
Status PreparePinDir(const std::string& dir, std::span<const char* const> names);

// Removes the pins `names` from dir (absent ones are fine), and dir itself if
// that leaves it empty.
void Unpin(const std::string& dir, std::span<const char* const> names);

// The first `count` elements of the per-CPU array map open as `fd` (u64
// values), each summed over the CPUs.
Result<std::vector<uint64_t>> SumPerCpuCounters(int fd, uint32_t count);

// errno as a Status, after `what`.
Status ErrnoStatus(const std::string& what);

}  // namespace sealfs
