// TxnParticipant: this server's side of namespace operations coordinated by
// another server (docs/design.md, "Cross-server operations").
//
// PEER_PREPARE applies an operation's steps for this server in one synced
// batch, together with a record of each step and its undo (`R` keys).
// PEER_FINISH commits or undoes them. A prepared step whose coordinator goes
// quiet is settled by the resolver: it asks the coordinator (TXN_STATUS) and
// commits what was committed, undoes what never will be (presumed abort).
//
// While a step is prepared, the inodes and entries it touched are busy: local
// operations that could conflict with its undo wait (Busy()).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "intent_runner.h"
#include "step_applier.h"
#include "stripe_locks.h"

namespace sealfs {

using EntryKey = std::pair<Ino, std::string>;

class TxnParticipant {
 public:
  // Asks the coordinator of `txn` what became of it.
  using AskCoordinator = std::function<Result<TxnState>(uint64_t txn)>;

  TxnParticipant(MetaStore* meta, StripeLocks* locks, StepApplier* applier, IntentRunner* intents);
  ~TxnParticipant();

  // Starts the resolver thread; prepared steps older than `settle_after`
  // are settled with the coordinator's answer.
  void StartResolver(AskCoordinator ask, std::chrono::milliseconds settle_after);
  void Stop();

  Status Prepare(PeerPrepareReq* req, PeerPrepareResp* out);
  // Idempotent: steps already finished (or never prepared) are skipped.
  Status Finish(uint64_t txn, bool commit);

  bool Busy(const std::vector<Ino>& inos, const std::vector<EntryKey>& entries) const;
  // Counts the stored prepared steps as busy anew (after another server's
  // steps were copied here).
  void TrackStored();

 private:
  void Track(const PreparedStep& p, int delta);
  void ResolveOnce();
  void ResolverLoop();

  MetaStore* meta_;
  StripeLocks* locks_;
  StepApplier* applier_;
  IntentRunner* intents_;
  // Held shared while a prepare or finish changes the stored steps and their
  // tracking, exclusively while TrackStored rebuilds it.
  std::shared_mutex track_mu_;
  std::mutex finish_mu_;  // one Finish at a time: the resolver and PEER_FINISH may race

  mutable std::mutex busy_mu_;
  std::multiset<Ino> busy_inos_;
  std::multiset<EntryKey> busy_entries_;

  AskCoordinator ask_;
  std::chrono::milliseconds settle_after_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread resolver_;
};

}  // namespace sealfs
