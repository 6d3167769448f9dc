// NamespaceService: the metadata operations a server performs on the inodes
// and directories it is home to (docs/design.md, "Operations").
//
// Every mutation locks the stripes of the inodes it changes, checks its
// preconditions, and commits all of its changes in one synced batch before
// it returns, so an acknowledged operation is durable and atomic. Work on
// other servers (file data) is recorded as an intent in the same batch.
#pragma once

#include <string>

#include "intent_runner.h"
#include "messages.h"
#include "meta_store.h"
#include "placement.h"
#include "stripe_locks.h"

namespace sealfs {

class NamespaceService {
 public:
  NamespaceService(MetaStore* meta, StripeLocks* locks, IntentRunner* intents, ServerId self);

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
  Status CheckLocal(Ino ino) const;
  Result<InodeRecord> GetDir(Ino ino) const;
  Entry MakeEntry(const InodeRecord& rec) const;
  // Takes one link away from `rec` inside `b`; deletes the inode (and records
  // a data-drop intent) when no link is left, unless `keep_orphan`.
  void DropLink(InodeRecord* rec, bool keep_orphan, int64_t now, MetaStore::Batch* b,
                std::vector<IntentRecord>* intents);
  Status CommitWithIntents(MetaStore::Batch* b, const std::vector<IntentRecord>& intents);
  Result<bool> IsAncestor(Ino maybe_ancestor, Ino dir) const;

  MetaStore* meta_;
  StripeLocks* locks_;
  IntentRunner* intents_;
  ServerId self_;
  std::mutex rename_mu_;  // serializes directory moves, like the VFS rename mutex
};

int64_t NowNs();

}  // namespace sealfs
