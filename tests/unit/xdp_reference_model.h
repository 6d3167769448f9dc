// XdpReferenceModel: what bpf/sealfs_xdp.bpf.c must do with a frame, written
// from the rules in docs/protocol.md ("UDP fast path") over plain bytes, so
// that the XDP tests can compare the program with it on any input.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "sealfs_xdp.h"

namespace sealfs::xdptest {

struct XdpVerdict {
  bool tx = false;               // XDP_TX; otherwise XDP_PASS, frame unchanged
  sealfs_xdp_counter counter{};  // the counter the frame counts in besides RECEIVED
  std::vector<uint8_t> reply;    // tx: the frame sent back
};

class XdpReferenceModel {
 public:
  explicit XdpReferenceModel(uint16_t port) : port_(port) {}

  // Mirrors of the answers map's updates.
  void Put(const sealfs_xdp_key& key, const sealfs_xdp_answer& value);
  void Erase(const sealfs_xdp_key& key);

  XdpVerdict Run(std::span<const uint8_t> frame) const;

 private:
  using KeyBytes = std::array<uint8_t, sizeof(sealfs_xdp_key)>;
  static KeyBytes Bytes(const sealfs_xdp_key& key);

  uint16_t port_;
  std::map<KeyBytes, sealfs_xdp_answer> answers_;
};

}  // namespace sealfs::xdptest
