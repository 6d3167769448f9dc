#include "intent_runner.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <vector>

namespace sealfs {

IntentRunner::IntentRunner(MetaStore* meta, StripeLocks* locks, DataFanout* fanout)
    : meta_(meta), locks_(locks), fanout_(fanout), thread_([this] { Loop(); }) {}

IntentRunner::~IntentRunner() { Stop(); }

void IntentRunner::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void IntentRunner::Kick() {
  {
    std::lock_guard lock(mu_);
    kicked_ = true;
  }
  cv_.notify_all();
}

void IntentRunner::WaitIdle() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return running_.empty(); });
}

bool IntentRunner::Begin(uint64_t id) {
  std::lock_guard lock(mu_);
  if (meta_->frozen()) return false;
  return running_.insert(id).second;
}

void IntentRunner::End(uint64_t id) {
  std::lock_guard lock(mu_);
  running_.erase(id);
  if (running_.empty()) idle_.notify_all();
}

Status IntentRunner::RunNow(const IntentRecord& rec) {
  if (!Begin(rec.id)) return Status::Error(EAGAIN, "intent already running, or handed over");
  Status s = Execute(rec);
  End(rec.id);
  if (!s.ok()) Kick();
  return s;
}

Status IntentRunner::Execute(const IntentRecord& rec) {
  switch (static_cast<IntentKind>(rec.kind)) {
    case IntentKind::kDropData:
    case IntentKind::kTruncData: {
      uint64_t size = rec.kind == static_cast<uint16_t>(IntentKind::kDropData) ? 0 : rec.size;
      Result<int64_t> freed = fanout_->TruncateEverywhere(rec.ino, size);
      if (!freed.ok()) return freed.status();
      StripeLocks::Guard g(locks_, {rec.ino});
      MetaStore::Batch b;
      Result<InodeRecord> inode = meta_->GetInode(rec.ino);
      if (inode.ok()) {
        inode->attr.blocks -= std::min<uint64_t>(inode->attr.blocks, static_cast<uint64_t>(*freed));
        b.PutInode(*inode);
      }
      b.DeleteIntent(rec.id);
      return meta_->Commit(&b);
    }
    case IntentKind::kFinishPeers: {
      for (ServerId peer : rec.peers) {
        RpcChannel* ch = fanout_->Peer(peer);
        if (!ch) return Status::Error(EIO, fmt::format("server {} is not a member", peer));
        PeerFinishReq req{.txn = rec.id, .commit = 1};
        Empty resp;
        if (Status s = ch->Call(Op::kPeerFinish, req, &resp, true); !s.ok()) return s;
      }
      MetaStore::Batch b;
      b.DeleteIntent(rec.id);
      return meta_->Commit(&b);
    }
  }
  spdlog::error("intent {:#x} has unknown kind {}; left for sealfs-fsck", rec.id, rec.kind);
  return Status::Error(EINVAL, "unknown intent kind");
}

void IntentRunner::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_ || kicked_; });
    if (stop_) break;
    kicked_ = false;
    lock.unlock();
    std::vector<IntentRecord> pending;
    meta_->ScanIntents([&](const IntentRecord& r) { pending.push_back(r); });
    for (const IntentRecord& r : pending) {
      {
        std::lock_guard l(mu_);
        if (stop_) break;
      }
      if (!Begin(r.id)) continue;
      if (Status s = Execute(r); !s.ok())
        spdlog::debug("intent {:#x} not finished yet: {}", r.id, s.ToString());
      End(r.id);
    }
    lock.lock();
  }
}

}  // namespace sealfs
