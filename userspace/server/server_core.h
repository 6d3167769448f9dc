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
#include "metadata_handoff.h"
#include "namespace_service.h"
#include "step_applier.h"
#include "stripe_locks.h"
#include "txn_coordinator.h"
#include "txn_participant.h"

namespace sealfs {

struct ServerCore {
  // Starts the intent runner, the resolver of prepared steps and the chunk
  // and metadata moves the membership asks for, if they are not finished.
  // `secret` (may be null: no membership changes) must outlive the core.
  // `on_leave` (may be empty) runs when this server, being removed, is about
  // to hand its metadata over (MetadataHandoff::Hooks).
  ServerCore(StartingMembership membership, ServerId self, MetaStore* meta, ChunkStore* chunks,
             std::chrono::milliseconds peer_timeout, const ClusterSecret* secret = nullptr,
             std::function<MetadataHandoff::Clock::time_point()> on_leave = {});
  ~ServerCore() { Stop(); }
  // Stops the background threads.
  void Stop();

  MembershipKeeper membership;
  ChunkMigrator migrator;
  MetadataHandoff handoff;
  StripeLocks locks;
  DataFanout fanout;
  IntentRunner intents;
  StepApplier applier;
  TxnParticipant participant;
  TxnCoordinator coordinator;
  NamespaceService ns;
};

}  // namespace sealfs
