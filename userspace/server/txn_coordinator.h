// TxnCoordinator and Txn: the coordinating side of namespace operations that
// span servers (docs/design.md, "Cross-server operations").
//
// The server that receives an operation coordinates it. It keeps its own
// stripe locks for the whole operation, prepares the steps for other servers
// there (PEER_PREPARE), and then commits its own changes in one synced batch
// that also records a finish intent naming the participants. That batch is
// the commit point: afterwards the participants are told to commit
// (PEER_FINISH), retried by the intent runner until they all have. Until
// then, an operation that fails or is abandoned is undone on the participants
// (presumed abort: a participant that asks about an operation its
// coordinator neither runs nor has a finish intent for undoes it).
//
// Directory moves between parents also take the cluster's directory-move
// lock, held by the root server, so that two moves cannot build a cycle.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "data_fanout.h"
#include "intent_runner.h"
#include "meta_store.h"

namespace sealfs {

class TxnCoordinator {
 public:
  TxnCoordinator(MetaStore* meta, IntentRunner* intents, DataFanout* peers, ServerId self,
                 ServerId root);

  // TXN_STATUS: what became of operation `txn` coordinated here.
  TxnState State(uint64_t txn) const;
  // What became of `txn`, asked of its coordinator (this server or a peer).
  Result<TxnState> Ask(uint64_t txn);

  // PEER_RENAME_LOCK, served by the root server.
  Status HandleDirMoveLock(const RenameLockReq& req);
  // At start-up: frees the directory-move lock if a previous run of this
  // server died holding it (instead of making every move wait for its lease).
  void ReleaseDirMoveLockOfEarlierRun();

  RpcChannel* Peer(ServerId id) { return peers_->Peer(id); }
  ServerId self() const { return self_; }

 private:
  friend class Txn;
  friend class DirMoveLock;
  Status CallDirMoveLock(uint64_t owner, bool acquire);

  MetaStore* meta_;
  IntentRunner* intents_;
  DataFanout* peers_;
  ServerId self_;
  ServerId root_;
  mutable std::mutex mu_;
  std::set<uint64_t> running_;  // operations between their first prepare and commit or undo

  // The directory-move lock (root server only).
  std::mutex move_mu_;
  uint64_t move_owner_ = 0;
  std::chrono::steady_clock::time_point move_expiry_{};
  std::atomic<uint64_t> next_owner_{1};
};

// One operation on its coordinator. Declare it before the operation's stripe
// lock guard: its destructor runs after the locks are released and tells the
// participants to commit (if Commit() succeeded) or to undo.
class Txn {
 public:
  explicit Txn(TxnCoordinator* c) : c_(c) {}
  ~Txn();
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  // Applies `steps` on `server` (each server at most once per operation);
  // returns the attributes each step produced.
  Result<std::vector<Attr>> Prepare(ServerId server, std::vector<PeerStep> steps);

  // Commits the coordinator's batch (plus `intents`); with prepared peers,
  // the batch also records the finish intent.
  Status Commit(MetaStore::Batch* b, const std::vector<IntentRecord>& intents);

 private:
  TxnCoordinator* c_;
  uint64_t id_ = 0;
  std::vector<ServerId> peers_;
  bool committed_ = false;
};

// The cluster-wide directory-move lock, held for one rename. It is a lease
// (a crashed holder cannot block moves for ever): Valid() tells whether it
// is still safely held.
class DirMoveLock {
 public:
  static constexpr std::chrono::seconds kLease{10};
  // Waits up to the lease time for the lock; EBUSY if it stays taken.
  static Result<std::unique_ptr<DirMoveLock>> Acquire(TxnCoordinator* c);
  ~DirMoveLock();
  bool Valid() const;

 private:
  DirMoveLock(TxnCoordinator* c, uint64_t owner, std::chrono::steady_clock::time_point start)
      : c_(c), owner_(owner), start_(start) {}
  TxnCoordinator* c_;
  uint64_t owner_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace sealfs
