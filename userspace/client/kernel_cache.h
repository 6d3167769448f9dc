// KernelCache: what `sealfs-mount --bpf` lets the kernel answer by itself
// (docs/design.md, "The --bpf client cache").
//
// The daemon fills the BPF maps from the answers it gets from the servers;
// the servers' invalidations (through CacheSessions) and the daemon's own
// changes delete from them. Generations keep a slow fill from undoing an
// invalidation: a fill carries the token taken before its request was sent,
// and is dropped if any invalidation of the same key (or a DropAll) came
// after that token.
#pragma once

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <sys/stat.h>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string_view>

#include "bpf_cache.h"
#include "cache_sessions.h"

namespace sealfs {

class KernelCache : public CacheSessions::Listener {
 public:
  // `root` is the server inode that FUSE calls FUSE_ROOT_ID.
  KernelCache(std::unique_ptr<BpfCache> maps, Ino root);

  // Kernel notifications (FUSE_NOTIFY_INVAL_*) go to `se` once it is set.
  void set_session(fuse_session* se) { session_ = se; }

  // A token to pass to the fills of the answer of a request about to be sent.
  uint64_t BeginFill() { return ++clock_; }
  void FillAttr(uint64_t token, fuse_ino_t ino, const struct stat& st);
  void FillEntry(uint64_t token, fuse_ino_t parent, std::string_view name, fuse_ino_t child,
                 const struct stat& st);
  // The daemon changed what it would answer about `ino` (a write).
  void DropAttr(fuse_ino_t ino);

  // CacheSessions::Listener.
  void Invalidate(const CacheInvalidateReq& req) override;
  void DropAll() override;
  void SetLease(uint64_t deadline_ns) override;

  BpfCache* maps() { return maps_.get(); }

 private:
  static constexpr size_t kBuckets = 4096;
  static constexpr size_t kStripes = 64;
  fuse_ino_t ToFuse(Ino ino) const { return ino == root_ ? FUSE_ROOT_ID : ino; }
  // Runs fn under the key's stripe lock after recording an invalidation.
  template <class Fn>
  void Invalidated(size_t bucket, Fn fn);
  // Fills under the key's stripe lock unless invalidated since `token`.
  template <class Fn>
  void FillIfCurrent(uint64_t token, size_t bucket, Fn fn);

  std::unique_ptr<BpfCache> maps_;
  const Ino root_;
  std::atomic<fuse_session*> session_{nullptr};
  std::atomic<uint64_t> clock_{0};
  std::atomic<uint64_t> min_token_{0};  // fills older than this are dropped (DropAll)
  std::mutex lease_mu_;
  uint64_t lease_deadline_ns_ = 0;  // guarded by lease_mu_
  std::array<std::mutex, kStripes> stripes_;
  std::array<uint64_t, kBuckets> invalidated_at_{};  // guarded by stripes_[bucket % kStripes]
};

}  // namespace sealfs
