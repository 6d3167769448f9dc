#include "xdp_answers.h"

#include <bpf/bpf.h>
#include <spdlog/spdlog.h>
#include <xxhash.h>

#include <cstring>

#include "xdp_wire.h"

namespace sealfs {

XdpAnswers::XdpAnswers(int map_fd) : map_fd_(map_fd) {}

size_t XdpAnswers::Slot(const sealfs_xdp_key& key) {
  return XXH3_64bits(&key, sizeof(key)) % kSlots;
}

void XdpAnswers::Delete(const sealfs_xdp_key& key) {
  if (map_fd_ < 0) return;
  if (bpf_map_delete_elem(map_fd_, &key) != 0 && errno != ENOENT)
    spdlog::error("XDP answers map: cannot delete the answer for {:#x} op {}: {}", key.ino, key.op,
                  std::strerror(errno));
}

void XdpAnswers::SetMap(int map_fd) {
  std::lock_guard lock(mu_);
  map_fd_ = map_fd;
  // The index names answers of the old map; the new one holds none. The
  // slots stay: they order fills against changes, whichever map they go to.
  by_child_.clear();
}

void XdpAnswers::Fill(const sealfs_xdp_answer& a) {
  if (a.status != 0) return;
  const bool carries_attr = a.key.op == SEALFS_XDP_LOOKUP && a.payload.entry.has_attr;
  const Ino child = a.payload.entry.ino;
  std::lock_guard lock(mu_);
  if (map_fd_ < 0) return;
  if (slots_[Slot(a.key)] > a.generation) return;
  if (carries_attr && slots_[Slot(XdpGetattrKey(child))] > a.generation) return;
  if (carries_attr) {
    if (by_child_.size() >= kMaxIndexed) {
      for (const auto& [ino, key] : by_child_) Delete(key);
      by_child_.clear();
    }
    auto [b, e] = by_child_.equal_range(child);
    bool indexed = false;
    for (auto it = b; it != e && !indexed; ++it)
      indexed = std::memcmp(&it->second, &a.key, sizeof(a.key)) == 0;
    if (!indexed) by_child_.emplace(child, a.key);
  }
  if (bpf_map_update_elem(map_fd_, &a.key, &a, BPF_ANY) != 0)
    spdlog::warn("XDP answers map: cannot fill: {}", std::strerror(errno));
}

void XdpAnswers::Committed(std::span<const Ino> inodes, std::span<const EntryName> entries) {
  if (inodes.empty() && entries.empty()) return;
  std::lock_guard lock(mu_);
  const uint64_t generation = ++clock_;
  for (Ino ino : inodes) {
    sealfs_xdp_key key = XdpGetattrKey(ino);
    slots_[Slot(key)] = generation;
    Delete(key);
    auto [b, e] = by_child_.equal_range(ino);
    for (auto it = b; it != e; ++it) Delete(it->second);
    by_child_.erase(b, e);
  }
  for (const EntryName& entry : entries) {
    Result<sealfs_xdp_key> key = XdpLookupKey(entry.parent, entry.name);
    if (!key.ok()) continue;  // a name the fast path never answers
    slots_[Slot(*key)] = generation;
    Delete(*key);
  }
}

}  // namespace sealfs
