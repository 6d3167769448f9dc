// MembershipKeeper: the membership a server acts on (docs/design.md,
// "Membership changes").
//
// A server starts from its cluster file's membership, or from the one an
// earlier run stored if that one is newer. It takes a newer membership only
// signed with the cluster secret, whoever hands it over: the loader, a
// client or another server that has it. It stores the record before it acts
// on it, so a restart never goes back to an older membership. A membership
// that drops this server (other than as a server chunks move from: it is
// being removed), moves the root directory or changes the chunk size is
// refused.
#pragma once

#include <chrono>

#include "chunk_migrator.h"
#include "cluster_secret.h"
#include "cluster_view.h"
#include "membership.h"
#include "meta_store.h"
#include "metadata_handoff.h"

namespace sealfs {

struct StartingMembership {
  ClusterConfig config;
  SignedMembership record;
};

// The cluster file's membership, or the stored one if that is newer.
Result<StartingMembership> ChooseStartingMembership(const ClusterConfig& file,
                                                    const MetaStore& meta);

class MembershipKeeper {
 public:
  // `secret` may be null: then every change is refused. It must outlive this.
  MembershipKeeper(StartingMembership start, ServerId self, MetaStore* meta,
                   const ClusterSecret* secret, std::chrono::milliseconds peer_timeout);

  ClusterView& view() { return view_; }
  // The movers of chunks and metadata, prepared for every membership before
  // it becomes current; no new membership is taken while they still move
  // anything here. Set before the view is shared.
  void set_movers(ChunkMigrator* migrator, MetadataHandoff* handoff) {
    migrator_ = migrator;
    handoff_ = handoff;
  }
  const ClusterView& view() const { return view_; }

  // MEMBERSHIP_OFFER: adopts `m` if it is newer; returns the version now
  // current. EEXIST: a different record with the current version.
  Result<uint64_t> Offer(const SignedMembership& m);

 private:
  Status BeforeAdopt(const ClusterView::Members& next);

  ServerId self_;
  MetaStore* meta_;
  const ClusterSecret* secret_;
  ChunkMigrator* migrator_ = nullptr;
  MetadataHandoff* handoff_ = nullptr;
  ClusterView view_;
};

}  // namespace sealfs
