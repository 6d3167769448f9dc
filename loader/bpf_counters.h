// `sealfs-loader bpf counters`: the counters of every sealfs BPF program
// whose maps are pinned under the pin root, summed over the CPUs: each
// server's XDP fast path (server-<id>/counters, enum sealfs_xdp_counter) and
// each client's --bpf cache (<mount id>/counters, enum sealfs_cache_counter)
// (docs/operations.md, "sealfs-loader bpf").
#pragma once

#include <ostream>
#include <string>

#include "bpf_inventory.h"

namespace sealfs {

struct BpfCountersOptions {
  std::string pin_root = kDefaultBpfPinRoot;
};

// Returns the exit status: 0, or 1 when the pins or a counters map cannot
// be read.
int RunBpfCounters(const BpfCountersOptions& options, std::ostream& out, std::ostream& err);

}  // namespace sealfs
