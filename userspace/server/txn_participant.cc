#include "txn_participant.h"

#include <spdlog/spdlog.h>

#include <map>

namespace sealfs {
namespace {

std::vector<Ino> LockSet(const std::vector<PeerStep>& steps) {
  std::vector<Ino> inos;
  for (const PeerStep& s : steps) StepInodes(s, &inos);
  return inos;
}

bool IsEntryStep(const PeerStep& s) {
  auto k = static_cast<StepKind>(s.kind);
  return k == StepKind::kPutEntry || k == StepKind::kDeleteEntry;
}

}  // namespace

TxnParticipant::TxnParticipant(MetaStore* meta, StripeLocks* locks, StepApplier* applier,
                               IntentRunner* intents)
    : meta_(meta), locks_(locks), applier_(applier), intents_(intents) {
  TrackStored();
}

void TxnParticipant::TrackStored() {
  std::unique_lock tracking(track_mu_);
  std::vector<PreparedStep> stored;
  meta_->ScanPrepared(0, [&](uint64_t, const PreparedStep& p) { stored.push_back(p); });
  {
    std::lock_guard lock(busy_mu_);
    busy_inos_.clear();
    busy_entries_.clear();
  }
  for (const PreparedStep& p : stored) Track(p, 1);
}

TxnParticipant::~TxnParticipant() { Stop(); }

void TxnParticipant::Track(const PreparedStep& p, int delta) {
  std::lock_guard lock(busy_mu_);
  std::vector<Ino> inos;
  StepInodes(p.step, &inos);
  for (Ino ino : inos) {
    if (delta > 0)
      busy_inos_.insert(ino);
    else if (auto it = busy_inos_.find(ino); it != busy_inos_.end())
      busy_inos_.erase(it);
  }
  if (!IsEntryStep(p.step)) return;
  EntryKey key{p.step.parent, p.step.name};
  if (delta > 0)
    busy_entries_.insert(key);
  else if (auto it = busy_entries_.find(key); it != busy_entries_.end())
    busy_entries_.erase(it);
}

bool TxnParticipant::Busy(const std::vector<Ino>& inos,
                          const std::vector<EntryKey>& entries) const {
  std::lock_guard lock(busy_mu_);
  if (busy_inos_.empty() && busy_entries_.empty()) return false;
  for (Ino ino : inos)
    if (ino != 0 && busy_inos_.count(ino)) return true;
  for (const EntryKey& e : entries)
    if (busy_entries_.count(e)) return true;
  return false;
}

Status TxnParticipant::Prepare(PeerPrepareReq* req, PeerPrepareResp* out) {
  if (req->txn == 0 || req->steps.empty()) return Status::Error(EINVAL, "empty PEER_PREPARE");
  std::shared_lock tracking(track_mu_);
  StripeLocks::Guard g(locks_, LockSet(req->steps));
  std::vector<Ino> inos;
  std::vector<EntryKey> entries;
  // A step conflicts with prepared steps on its inode or its entry. (The
  // directories that prepared steps name are busy only against their own
  // removal, which is a step on that directory's inode.)
  for (const PeerStep& s : req->steps) {
    if (s.kind != static_cast<uint8_t>(StepKind::kCreateInode)) inos.push_back(s.ino);
    if (IsEntryStep(s)) entries.emplace_back(s.parent, s.name);
  }
  if (Busy(inos, entries))
    return Status::Error(EAGAIN, "another operation on the same files is in flight");

  InodeCache cache(meta_);
  MetaStore::Batch b;
  std::vector<PreparedStep> prepared(req->steps.size());
  out->attrs.assign(req->steps.size(), Attr{});
  for (size_t i = 0; i < req->steps.size(); ++i) {
    PreparedStep& p = prepared[i];
    if (Status s = applier_->Prepare(&req->steps[i], &cache, &b, &p, &out->attrs[i]); !s.ok())
      return s;
    p.txn = req->txn;
    p.prepared_ns = NowNs();
    b.PutPrepared(i, p);
  }
  cache.Flush(&b);
  if (Status s = meta_->Commit(&b); !s.ok()) return s;
  for (const PreparedStep& p : prepared) Track(p, 1);
  return Status::Ok();
}

Status TxnParticipant::Finish(uint64_t txn, bool commit) {
  std::shared_lock tracking(track_mu_);
  std::lock_guard fl(finish_mu_);
  std::vector<std::pair<uint64_t, PreparedStep>> steps;
  meta_->ScanPrepared(txn,
                      [&](uint64_t seq, const PreparedStep& p) { steps.emplace_back(seq, p); });
  if (steps.empty()) return Status::Ok();
  std::vector<Ino> inos;
  for (const auto& [seq, p] : steps) StepInodes(p.step, &inos);
  StripeLocks::Guard g(locks_, inos);

  std::vector<IntentRecord> intents;
  if (Status s = applier_->FinishAll(txn, steps, commit, &intents); !s.ok()) return s;
  for (const auto& [seq, p] : steps) Track(p, -1);
  if (!intents.empty()) intents_->Kick();
  return Status::Ok();
}

void TxnParticipant::StartResolver(AskCoordinator ask, std::chrono::milliseconds settle_after) {
  ask_ = std::move(ask);
  settle_after_ = settle_after;
  resolver_ = std::thread([this] { ResolverLoop(); });
}

void TxnParticipant::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (resolver_.joinable()) resolver_.join();
}

void TxnParticipant::ResolveOnce() {
  if (meta_->frozen()) return;         // the steps went to another server, which settles them
  std::map<uint64_t, int64_t> oldest;  // txn -> when its first step was prepared
  meta_->ScanPrepared(0, [&](uint64_t, const PreparedStep& p) {
    auto [it, fresh] = oldest.emplace(p.txn, p.prepared_ns);
    if (!fresh) it->second = std::min(it->second, p.prepared_ns);
  });
  const int64_t cutoff =
      NowNs() - std::chrono::duration_cast<std::chrono::nanoseconds>(settle_after_).count();
  for (const auto& [txn, since] : oldest) {
    if (since > cutoff) continue;
    Result<TxnState> state = ask_(txn);
    if (!state.ok()) {
      spdlog::debug("operation {:#x}: coordinator {} not reachable: {}", txn, HomeOf(txn),
                    state.status().ToString());
      continue;
    }
    if (*state == TxnState::kRunning) continue;
    const bool commit = *state == TxnState::kCommitted;
    Status s = Finish(txn, commit);
    spdlog::info("operation {:#x} of server {} settled here: {}{}", txn, HomeOf(txn),
                 commit ? "committed" : "undone", s.ok() ? "" : " failed: " + s.ToString());
  }
}

void TxnParticipant::ResolverLoop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_; });
    if (stop_) break;
    lock.unlock();
    ResolveOnce();
    lock.lock();
  }
}

}  // namespace sealfs
