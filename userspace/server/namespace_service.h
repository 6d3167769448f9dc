// NamespaceService: the metadata operations a server performs on the inodes
// and directories it is home to (docs/design.md, "Operations").
//
// Every mutation locks the stripes of the local inodes it changes, checks its
// preconditions, and commits all of its local changes in one synced batch
// before it returns, so an acknowledged operation is durable and atomic.
// Namespace mutations are lists of steps (step_applier.h); steps on other
// servers are prepared there first and committed through a Txn. Work on file
// data elsewhere is recorded as an intent in the same batch.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "cluster_view.h"
#include "intent_runner.h"
#include "messages.h"
#include "meta_store.h"
#include "step_applier.h"
#include "stripe_locks.h"
#include "txn_coordinator.h"
#include "txn_participant.h"

namespace sealfs {

class NamespaceService {
 public:
  struct Deps {
    MetaStore* meta;
    StripeLocks* locks;
    IntentRunner* intents;
    StepApplier* applier;
    TxnCoordinator* coordinator;
    TxnParticipant* participant;
    const ClusterView* view;  // where new directories go
  };
  NamespaceService(const Deps& deps, ServerId self);

  // Creates the root directory if this server is the root server and it is missing.
  Status EnsureRoot(Ino root);

  Status Lookup(const LookupReq& req, Entry* out) const;
  Status Getattr(Ino ino, Attr* out) const;
  Status Setattr(const SetattrReq& req, Attr* out);
  Status Mknod(const MknodReq& req, Entry* out);
  Status Unlink(const UnlinkReq& req, UnlinkResp* out);
  Status Rename(const RenameReq& req, UnlinkResp* out);
  Status Link(const LinkReq& req, Entry* out);
  Status Readdir(const ReaddirReq& req, ReaddirResp* out) const;
  Status Readlink(Ino ino, std::string* out) const;
  Status SetXattr(const XattrReq& req);
  Status GetXattr(const XattrReq& req, std::string* value) const;
  Status ListXattr(Ino ino, std::string* names) const;
  Status RemoveXattr(const XattrReq& req);
  Status CommitWrite(const CommitWriteReq& req, Attr* out);
  Status DropOrphan(Ino ino);
  uint64_t InodeCount() const { return meta_->inode_count(); }

 private:
  using Steps = std::vector<std::pair<ServerId, PeerStep>>;

  Status MknodOnce(const MknodReq& req, ServerId home, Entry* out);
  Status UnlinkOnce(const UnlinkReq& req, UnlinkResp* out);
  Status RenameOnce(const RenameReq& req, UnlinkResp* out);
  Status LinkOnce(const LinkReq& req, Entry* out);
  Status CheckLocal(Ino ino) const;
  // True if this server holds the metadata numbered with `home`.
  bool Here(ServerId home) const { return view_->Hosts(home); }
  Result<InodeRecord> GetDir(Ino ino) const;
  Result<InodeRecord*> GetDir(InodeCache* inodes, Ino ino) const;
  Entry MakeEntry(const InodeRecord& rec) const;
  // Runs an operation's steps: other servers' are prepared there, this
  // server's are applied with `inodes`, and the coordinator's batch is
  // committed (after `before_commit`, if given, agrees). attrs[i] belongs
  // to steps[i].
  Status Execute(Txn* txn, Steps steps, InodeCache* inodes, std::vector<Attr>* attrs,
                 const std::function<Status()>& before_commit = {});
  // The entry (parent, name) on whichever server holds it.
  Result<Entry> PeekEntry(Ino parent, const std::string& name) const;
  Result<Attr> AttrAnywhere(Ino ino) const;
  Result<bool> IsAncestor(Ino maybe_ancestor, Ino dir) const;

  MetaStore* meta_;
  StripeLocks* locks_;
  IntentRunner* intents_;
  StepApplier* applier_;
  TxnCoordinator* coord_;
  TxnParticipant* participant_;
  const ClusterView* view_;
  ServerId self_;
};

}  // namespace sealfs
