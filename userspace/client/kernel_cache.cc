#include "kernel_cache.h"

#include <xxhash.h>

namespace sealfs {
namespace {

size_t AttrBucket(fuse_ino_t ino) { return XXH64(&ino, sizeof ino, 1); }

size_t EntryBucket(fuse_ino_t parent, std::string_view name) {
  return XXH64(name.data(), name.size(), parent);
}

}  // namespace

KernelCache::KernelCache(std::unique_ptr<BpfCache> maps, Ino root)
    : maps_(std::move(maps)), root_(root) {}

template <class Fn>
void KernelCache::Invalidated(size_t bucket, Fn fn) {
  bucket %= kBuckets;
  std::lock_guard lock(stripes_[bucket % kStripes]);
  invalidated_at_[bucket] = ++clock_;
  fn();
}

template <class Fn>
void KernelCache::FillIfCurrent(uint64_t token, size_t bucket, Fn fn) {
  bucket %= kBuckets;
  if (token < min_token_.load()) return;
  std::lock_guard lock(stripes_[bucket % kStripes]);
  if (invalidated_at_[bucket] > token) return;
  fn();
}

void KernelCache::FillAttr(uint64_t token, fuse_ino_t ino, const struct stat& st) {
  FillIfCurrent(token, AttrBucket(ino), [&] { maps_->PutAttr(ino, st, token); });
}

void KernelCache::FillEntry(uint64_t token, fuse_ino_t parent, std::string_view name,
                            fuse_ino_t child, const struct stat& st) {
  FillAttr(token, child, st);
  FillIfCurrent(token, EntryBucket(parent, name),
                [&] { maps_->PutEntry(parent, name, child, token); });
}

void KernelCache::DropAttr(fuse_ino_t ino) {
  Invalidated(AttrBucket(ino), [&] { maps_->DeleteAttr(ino); });
}

// The kernel keeps the program's answers for one tick: its copies are dropped
// here, before the acknowledgement. Neither notification takes a lock that a
// call waiting on the very change could hold (the patched kernel expires an
// entry without the directory's lock), and each is carried out when the write
// to /dev/fuse returns.
void KernelCache::Invalidate(const CacheInvalidateReq& req) {
  fuse_session* se = session_;
  for (Ino server_ino : req.inodes) {
    fuse_ino_t ino = ToFuse(server_ino);
    DropAttr(ino);
    if (se) fuse_lowlevel_notify_inval_inode(se, ino, -1, 0);
  }
  for (const EntryName& e : req.entries) {
    fuse_ino_t parent = ToFuse(e.parent);
    Invalidated(EntryBucket(parent, e.name), [&] { maps_->DeleteEntry(parent, e.name); });
    if (se)
      fuse_lowlevel_notify_expire_entry(se, parent, e.name.data(), e.name.size(),
                                        FUSE_LL_EXPIRE_ONLY);
  }
}

void KernelCache::DropAll() {
  std::lock_guard lock(lease_mu_);
  min_token_ = ++clock_;
  maps_->SetLease(lease_deadline_ns_, min_token_);
}

void KernelCache::SetLease(uint64_t deadline_ns) {
  std::lock_guard lock(lease_mu_);
  lease_deadline_ns_ = deadline_ns;
  maps_->SetLease(lease_deadline_ns_, min_token_);
}

}  // namespace sealfs
