// BpfCache: sealfs-mount's FUSE BPF cache (`--bpf`).  Loads
// bpf/sealfs_cache.bpf.c, attaches it to the daemon's own FUSE connection
// (struct fuse_bpf_ops, docs/kernel-hook.md) and lets the daemon fill and
// invalidate the maps from which the kernel then answers LOOKUP and GETATTR
// without waking the daemon.
//
// Contract with the daemon (the maps are its cache; keeping them coherent is
// its job, see docs/kernel-hook.md):
//  - fill (PutEntry/PutAttr) from its own replies, stamping each value with
//    the fill generation current when the daemon read the data;
//  - delete (DeleteEntry/DeleteAttr) before answering a mutation or when told
//    of a change made elsewhere, before the kernel's own invalidation;
//  - SetLease bounds, in time and in fill generation, what may be answered:
//    nothing is answered before the first SetLease.
// Every method is thread-safe; Put/Delete are one bpf() syscall each.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "status.h"

struct sealfs_cache;  // the bpftool skeleton (sealfs_cache.skel.h)

namespace sealfs {

struct BpfCacheOptions {
  // Maps, preallocated; bytes per element as the kernel (6.12, x86-64) lays them out.
  uint32_t max_entries = 65536;  // names under 48 bytes (parent, name) -> nodeid; 152 bytes each
  uint32_t max_long_entries = 8192;  // longer names -> nodeid; 360 bytes each
  uint32_t max_attrs = 65536;        // nodeid -> attributes; 168 bytes each
};

// The program's counters, summed over CPUs.  hit: answered in the kernel;
// miss: nothing cached for the key; forward: cached but not usable (lease
// expired, fill_gen below min_fill_gen, entry without attributes, reply
// refused).  Misses and forwards reach the daemon.
struct BpfCacheCounters {
  uint64_t lookup_hit = 0, lookup_miss = 0, lookup_forward = 0;
  uint64_t getattr_hit = 0, getattr_miss = 0, getattr_forward = 0;
};

class BpfCache {
 public:
  // Ok if the running kernel has the FUSE BPF hook; otherwise an error saying
  // what is missing and where to run instead.
  static Status HookAvailable();

  // Loads the program with maps of opts' sizes, pins its maps as pin_dir/
  // {entries,long_entries,attrs,lease,counters} (pin_dir is normally
  // /sys/fs/bpf/sealfs/<mount id>; missing directories are created, pins left
  // by an earlier daemon with the same id are replaced), and attaches it to
  // the connection of fuse_dev_fd, an open /dev/fuse of a mounted file system.
  // On failure nothing stays pinned or attached.
  static Result<std::unique_ptr<BpfCache>> Attach(int fuse_dev_fd, const std::string& pin_dir,
                                                  BpfCacheOptions opts);

  // Detaches (when this returns, the program answers nothing more), unpins the
  // maps and removes pin_dir.
  ~BpfCache();
  BpfCache(const BpfCache&) = delete;
  BpfCache& operator=(const BpfCache&) = delete;

  // LOOKUP(parent, name) answers nodeid (generation 0) with attrs[nodeid].
  // A name longer than 255 bytes is not cached (no-op).
  void PutEntry(uint64_t parent, std::string_view name, uint64_t nodeid, uint64_t fill_gen);
  // GETATTR(nodeid) answers st, converted as libfuse does for its replies.
  void PutAttr(uint64_t nodeid, const struct stat& st, uint64_t fill_gen);
  // Absent keys are fine.
  void DeleteEntry(uint64_t parent, std::string_view name);
  void DeleteAttr(uint64_t nodeid);
  // Answers are given while CLOCK_MONOTONIC (bpf_ktime_get_ns) < deadline_ns,
  // from values with fill_gen >= min_fill_gen.  A program running while this
  // is called sees the old lease, the new one, or something no more
  // permissive than either.
  void SetLease(uint64_t deadline_ns, uint64_t min_fill_gen);

  BpfCacheCounters Counters() const;
  // The counters of the cache pinned at pin_dir (any process, e.g.
  // `sealfs-mount --stats`).
  static Result<BpfCacheCounters> ReadPinnedCounters(const std::string& pin_dir);

  const std::string& pin_dir() const { return pin_dir_; }

 private:
  BpfCache(struct sealfs_cache* skel, int link_fd, std::string pin_dir);

  struct sealfs_cache* skel_;
  int link_fd_;
  std::string pin_dir_;
  int entries_fd_, long_entries_fd_, attrs_fd_, lease_fd_, counters_fd_;
  std::mutex lease_mu_;  // serializes SetLease; guards the two fields below
  uint64_t lease_deadline_ns_ = 0, lease_min_fill_gen_ = 0;  // last written
};

}  // namespace sealfs
