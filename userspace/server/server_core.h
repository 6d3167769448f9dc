// ServerCore: the parts of a server that act on its stores, wired together
// (the namespace, the steps of cross-server operations, and the intents).
#pragma once

#include <chrono>

#include "chunk_migrator.h"
#include "chunk_store.h"
#include "cluster_config.h"
#include "data_fanout.h"
#include "intent_runner.h"
#include "membership_keeper.h"
#include "meta_store.h"
#include "namespace_service.h"
#include "step_applier.h"
#include "stripe_locks.h"
#include "txn_coordinator.h"
#include "txn_participant.h"

namespace sealfs {

struct ServerCore {
  // Starts the intent runner, the resolver of prepared steps and the chunk
  // migration the membership asks for, if it is not finished. `secret`
  // (may be null: no membership changes) must outlive the core.
  ServerCore(StartingMembership membership, ServerId self, MetaStore* meta, ChunkStore* chunks,
             std::chrono::milliseconds peer_timeout, const ClusterSecret* secret = nullptr);
  ~ServerCore() { Stop(); }
  // Stops the background threads.
  void Stop();

  MembershipKeeper membership;
  ChunkMigrator migrator;
  StripeLocks locks;
  DataFanout fanout;
  IntentRunner intents;
  StepApplier applier;
  TxnParticipant participant;
  TxnCoordinator coordinator;
  NamespaceService ns;
};

}  // namespace sealfs
