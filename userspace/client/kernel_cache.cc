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
    : maps_(std::move(maps)), root_(root), notifier_([this] { NotifyLoop(); }) {}

KernelCache::~KernelCache() {
  {
    std::lock_guard lock(notify_mu_);
    stopping_ = true;
  }
  notify_cv_.notify_all();
  notifier_.join();
}

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

void KernelCache::Invalidate(const CacheInvalidateReq& req) {
  for (Ino server_ino : req.inodes) {
    fuse_ino_t ino = ToFuse(server_ino);
    DropAttr(ino);
    // The kernel keeps the program's answers for one tick: drop its copy
    // before the acknowledgement. It takes no lock that a waiting call could
    // hold, and is done when the write to /dev/fuse returns.
    if (session_) fuse_lowlevel_notify_inval_inode(session_, ino, -1, 0);
  }
  for (const EntryName& e : req.entries) {
    fuse_ino_t parent = ToFuse(e.parent);
    Invalidated(EntryBucket(parent, e.name), [&] { maps_->DeleteEntry(parent, e.name); });
  }
  if (req.entries.empty() || !session_) return;
  {
    std::lock_guard lock(notify_mu_);
    for (const EntryName& e : req.entries)
      notify_queue_.push_back(EntryName{ToFuse(e.parent), e.name});
  }
  notify_cv_.notify_one();
}

void KernelCache::NotifyLoop() {
  std::unique_lock lock(notify_mu_);
  for (;;) {
    notify_cv_.wait(lock, [&] { return stopping_ || !notify_queue_.empty(); });
    if (stopping_) return;
    std::vector<EntryName> batch;
    batch.swap(notify_queue_);
    lock.unlock();
    for (const EntryName& e : batch)
      fuse_lowlevel_notify_inval_entry(session_, e.parent, e.name.data(), e.name.size());
    lock.lock();
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
