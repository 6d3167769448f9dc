#include "txn_coordinator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

namespace sealfs {

TxnCoordinator::TxnCoordinator(MetaStore* meta, IntentRunner* intents, DataFanout* peers,
                               ServerId self, ServerId root)
    : meta_(meta), intents_(intents), peers_(peers), self_(self), root_(root) {}

TxnState TxnCoordinator::State(uint64_t txn) const {
  {
    std::lock_guard lock(mu_);
    if (running_.count(txn)) return TxnState::kRunning;
  }
  // Not running: committed exactly when its finish intent is still there
  // (it is deleted only after every participant has committed).
  Result<IntentRecord> rec = meta_->GetIntent(txn);
  return rec.ok() ? TxnState::kCommitted : TxnState::kUnknown;
}

Result<TxnState> TxnCoordinator::Ask(uint64_t txn) {
  if (peers_->Here(HomeOf(txn))) return State(txn);
  RpcChannel* ch = Peer(HomeOf(txn));
  if (!ch) return Status::Error(EIO, fmt::format("coordinator {} is not a member", HomeOf(txn)));
  U64Resp state;
  U64Resp req{txn};
  if (Status s = ch->Call(Op::kTxnStatus, req, &state, true); !s.ok()) return s;
  if (state.value > static_cast<uint64_t>(TxnState::kCommitted))
    return Status::Error(EIO, "bad TXN_STATUS reply");
  return static_cast<TxnState>(state.value);
}

Result<std::vector<Attr>> Txn::Prepare(ServerId server, std::vector<PeerStep> steps) {
  if (std::find(peers_.begin(), peers_.end(), server) != peers_.end())
    return Status::Error(EINVAL, "two prepares on one server");
  RpcChannel* ch = c_->Peer(server);
  if (!ch) return Status::Error(EIO, fmt::format("server {} is not a member", server));
  if (id_ == 0) {
    Result<uint64_t> id = c_->meta_->AllocateIntentId();
    if (!id.ok()) return id.status();
    id_ = *id;
    std::lock_guard lock(c_->mu_);
    c_->running_.insert(id_);
  }
  // Counted before the call: a prepare whose reply is lost may still have
  // been applied, and must be undone with the rest.
  peers_.push_back(server);
  PeerPrepareReq req{.txn = id_, .steps = std::move(steps)};
  PeerPrepareResp resp;
  if (Status s = ch->Call(Op::kPeerPrepare, req, &resp, false); !s.ok()) return s;
  if (resp.attrs.size() != req.steps.size())
    return Status::Error(EIO, "PEER_PREPARE reply does not match its request");
  return std::move(resp.attrs);
}

Status Txn::Commit(MetaStore::Batch* b, const std::vector<IntentRecord>& intents) {
  if (!peers_.empty()) {
    b->PutIntent(IntentRecord{
        .id = id_, .kind = static_cast<uint16_t>(IntentKind::kFinishPeers), .peers = peers_});
  }
  for (const IntentRecord& i : intents) b->PutIntent(i);
  Status s = c_->meta_->Commit(b);
  committed_ = s.ok();
  if (committed_ && !intents.empty()) c_->intents_->Kick();
  return s;
}

Txn::~Txn() {
  if (peers_.empty()) return;
  if (committed_) {
    {
      std::lock_guard lock(c_->mu_);
      c_->running_.erase(id_);
    }
    IntentRecord finish{
        .id = id_, .kind = static_cast<uint16_t>(IntentKind::kFinishPeers), .peers = peers_};
    // EAGAIN: the intent runner is already at it.
    if (Status s = c_->intents_->RunNow(finish); !s.ok() && s.err() != EAGAIN)
      spdlog::warn("operation {:#x} committed; participants not all told yet: {}", id_,
                   s.ToString());
    return;
  }
  for (ServerId p : peers_) {
    PeerFinishReq req{.txn = id_, .commit = 0};
    Empty resp;
    if (Status s = c_->Peer(p)->Call(Op::kPeerFinish, req, &resp, true); !s.ok())
      spdlog::info("operation {:#x}: server {} will undo its steps itself: {}", id_, p,
                   s.ToString());
  }
  std::lock_guard lock(c_->mu_);
  c_->running_.erase(id_);
}

Status TxnCoordinator::HandleDirMoveLock(const RenameLockReq& req) {
  if (self_ != root_)
    return Status::Error(EINVAL, "the directory-move lock lives on the root server");
  std::lock_guard lock(move_mu_);
  auto now = std::chrono::steady_clock::now();
  if (!req.acquire) {
    // An owner without a local part stands for everything its server held.
    const bool whole_server = LocalOf(req.owner) == 0 && HomeOf(move_owner_) == HomeOf(req.owner);
    if (move_owner_ == req.owner || whole_server) move_owner_ = 0;
    return Status::Ok();
  }
  if (move_owner_ != 0 && move_owner_ != req.owner && now < move_expiry_)
    return Status::Error(EAGAIN, "another directory move is in progress");
  move_owner_ = req.owner;
  move_expiry_ = now + DirMoveLock::kLease;
  return Status::Ok();
}

Status TxnCoordinator::CallDirMoveLock(uint64_t owner, bool acquire) {
  RenameLockReq req{.owner = owner, .acquire = static_cast<uint8_t>(acquire)};
  if (self_ == root_) return HandleDirMoveLock(req);
  RpcChannel* ch = Peer(root_);
  if (!ch) return Status::Error(EIO, "the root server is not a member");
  Empty resp;
  return ch->Call(Op::kPeerRenameLock, req, &resp, true);
}

void TxnCoordinator::ReleaseDirMoveLockOfEarlierRun() {
  if (Status s = CallDirMoveLock(MakeIno(self_, 0), false); !s.ok())
    spdlog::debug("directory-move lock of an earlier run not released: {}", s.ToString());
}

Result<std::unique_ptr<DirMoveLock>> DirMoveLock::Acquire(TxnCoordinator* c) {
  const uint64_t owner = (uint64_t{c->self_} << kServerIdShift) | c->next_owner_++;
  const auto give_up = std::chrono::steady_clock::now() + kLease;
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    auto start = std::chrono::steady_clock::now();
    Status s = c->CallDirMoveLock(owner, true);
    if (s.ok()) return std::unique_ptr<DirMoveLock>(new DirMoveLock(c, owner, start));
    if (s.err() != EAGAIN) return s;
    if (start > give_up) return Status::Error(EBUSY, "directory moves are blocked elsewhere");
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

DirMoveLock::~DirMoveLock() {
  if (Status s = c_->CallDirMoveLock(owner_, false); !s.ok())
    spdlog::info("directory-move lock not released (its lease will expire): {}", s.ToString());
}

bool DirMoveLock::Valid() const {
  // Leave a margin for the time the holder needs after checking.
  return std::chrono::steady_clock::now() < start_ + kLease - std::chrono::seconds(2);
}

}  // namespace sealfs
