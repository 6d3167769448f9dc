// An XDP program that passes every frame, attached in native mode to one
// interface. The XDP-mode test clusters (cluster_net.h) and sealfs-xdpbench
// put it on the client's end of each veth pair: in native mode a veth hands the XDP_TX frames of
// its own program to its peer only when the peer runs NAPI, which a veth does while it has an XDP
// program (or GRO) enabled; otherwise they are dropped. Passing everything,
// it changes nothing else about what the client receives.
#pragma once

#include <string>

#include "unique_fd.h"

namespace sealfs::it {

class NativeXdpPass {
 public:
  // Attaches to `interface` of the calling thread's network namespace.
  // Throws if the kernel refuses.
  explicit NativeXdpPass(const std::string& interface);
  // Detaches (closing the link).
  ~NativeXdpPass() = default;
  NativeXdpPass(const NativeXdpPass&) = delete;
  NativeXdpPass& operator=(const NativeXdpPass&) = delete;

 private:
  UniqueFd program_;
  UniqueFd link_;  // a BPF link: the program is detached when it closes, also if we die
};

}  // namespace sealfs::it
