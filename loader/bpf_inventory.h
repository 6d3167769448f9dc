// `sealfs-loader bpf list`: sealfs's BPF programs loaded on this host, the
// interfaces the XDP ones are attached to, and the maps pinned under the pin
// root, each with the bpftool command that shows it (docs/operations.md,
// "sealfs-loader bpf").
#pragma once

#include <ostream>
#include <string>

namespace sealfs {

inline constexpr char kDefaultBpfPinRoot[] = "/sys/fs/bpf/sealfs";

struct BpfListOptions {
  std::string pin_root = kDefaultBpfPinRoot;
};

// Returns the exit status: 0, or 1 when the programs or pins cannot be read.
int RunBpfList(const BpfListOptions& options, std::ostream& out, std::ostream& err);

}  // namespace sealfs
