// XdpAnswers: this server's side of the XDP fast path's answers map
// (bpf/sealfs_xdp.h; docs/design.md, "The XDP fast path"): the generations
// that order answers against changes, the fills after the program's misses,
// and the deletions that keep every answer in the map current.
//
// The server is the only writer of the map. Contracts:
// - Begin() is called before an answer is read from the store, and the
//   answer carries its value as generation (XdpAnswer()).
// - Committed() is the metadata store's commit observer: it runs after a
//   change is durable and before it is acknowledged, and deletes every answer
//   the change may have made wrong: GETATTR of each changed inode, LOOKUP of
//   each changed entry, and each LOOKUP answer that carries a changed inode's
//   attributes.
// - Fill() installs an answer only if no Committed() since its Begin() touched
//   what it was read from; so an answer read before a change never lands
//   after that change's deletion, and an older generation never overwrites a
//   newer state.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <unordered_map>

#include "messages.h"
#include "sealfs_xdp.h"

namespace sealfs {

class XdpAnswers {
 public:
  // `map_fd`: the answers map, not owned, open until SetMap() replaces it or
  // this object goes; -1 when no XDP program runs: then only the generations
  // are kept (the user-space replies carry them too).
  explicit XdpAnswers(int map_fd);

  // From now on fills and deletions go to `map_fd` (or nowhere: -1), which
  // must be an empty answers map: its program may answer from it at once, and
  // an empty map is always right (misses come to user space). Safe against
  // concurrent Fill() and Committed(): once it returns, the old map is no
  // longer touched and may be closed. Swap maps only while the old one's
  // program is no longer attached, or before it is: no deletion reaches the
  // old map after this, so its answers could go stale.
  void SetMap(int map_fd);

  uint64_t Begin() const { return clock_.load(); }
  // Installs `a` (status 0 answers only; others are ignored).
  void Fill(const sealfs_xdp_answer& a);
  void Committed(std::span<const Ino> inodes, std::span<const EntryName> entries);

 private:
  // Generations of the last change are kept per hash slot of the key: a
  // collision only refuses a fill that would have been right.
  static constexpr size_t kSlots = 4096;
  // LOOKUP answers with attributes, indexed by child: bounded; past the bound
  // every indexed answer is deleted and the index starts empty.
  static constexpr size_t kMaxIndexed = 1 << 17;

  static size_t Slot(const sealfs_xdp_key& key);
  void Delete(const sealfs_xdp_key& key);

  std::mutex mu_;  // map_fd_, every map write, slots_ and by_child_
  int map_fd_;
  std::atomic<uint64_t> clock_{1};
  std::array<uint64_t, kSlots> slots_{};
  std::unordered_multimap<Ino, sealfs_xdp_key> by_child_;
};

}  // namespace sealfs
