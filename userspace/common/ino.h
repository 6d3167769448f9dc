// Inode numbers. A 64-bit inode number encodes its home server's stable id in
// the top 16 bits, so any client or server can route a request for an inode
// without a lookup table:
//
//   | home server id (16) | local number (48) |
//
// Local numbers are allocated by the home server. FUSE's root nodeid (1) is
// translated by the client to the root inode, which lives on the cluster's
// root server (the member with the lowest id) with local number 1.
#pragma once

#include <cstdint>

namespace sealfs {

using Ino = uint64_t;
using ServerId = uint16_t;

inline constexpr int kServerIdShift = 48;
inline constexpr uint64_t kLocalMask = (uint64_t{1} << kServerIdShift) - 1;
inline constexpr uint64_t kRootLocal = 1;

constexpr Ino MakeIno(ServerId home, uint64_t local) {
  return (uint64_t{home} << kServerIdShift) | (local & kLocalMask);
}
constexpr ServerId HomeOf(Ino ino) { return static_cast<ServerId>(ino >> kServerIdShift); }
constexpr uint64_t LocalOf(Ino ino) { return ino & kLocalMask; }

}  // namespace sealfs
