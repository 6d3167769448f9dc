// StepApplier: applies the steps of namespace operations (PeerStep) to this
// server's metadata. Every namespace mutation is a list of steps; the steps
// for this server run here, those for other servers run there (PEER_PREPARE).
//
// Prepare() makes a step's change and fills in what undoes it; Finish()
// then either commits the step (removes what it marked for removal: an
// emptied directory, an inode left without links) or undoes it. A step of a
// single-server operation is prepared and committed in the same batch.
//
// Contract: the caller holds the stripe locks of every inode and parent
// directory the steps name, routes every change through one InodeCache, and
// commits the batch after InodeCache::Flush().
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "meta_store.h"

namespace sealfs {

// Inode records read once and changed in memory until Flush() writes them.
class InodeCache {
 public:
  explicit InodeCache(const MetaStore* meta) : meta_(meta) {}
  // The record, or ENOENT if there is none (or it was erased here).
  Result<InodeRecord*> Get(Ino ino);
  void Put(const InodeRecord& rec);
  void Erase(Ino ino);
  void Flush(MetaStore::Batch* b);

 private:
  struct Slot {
    std::optional<InodeRecord> rec;
    bool dirty = false;
  };
  const MetaStore* meta_;
  std::map<Ino, Slot> slots_;
};

class StepApplier {
 public:
  explicit StepApplier(MetaStore* meta) : meta_(meta) {}

  // Applies `step` (setting step.ino for kCreateInode when it is 0) and
  // describes its undo in *undo; *attr receives the changed inode's
  // attributes (untouched for entry steps). Nothing is changed on failure.
  Status Prepare(PeerStep* step, InodeCache* inodes, MetaStore::Batch* b, PreparedStep* undo,
                 Attr* attr);
  void Finish(const PreparedStep& p, bool commit, InodeCache* inodes, MetaStore::Batch* b,
              std::vector<IntentRecord>* intents);

  // Prepares and commits `steps` in one go (an operation's steps on its
  // coordinator); attrs[i] belongs to steps[i].
  Status ApplyLocal(std::vector<PeerStep>* steps, InodeCache* inodes, MetaStore::Batch* b,
                    std::vector<IntentRecord>* intents, std::vector<Attr>* attrs);

  // Commits or undoes (in reverse order) the prepared steps (seq, step) of
  // `txn`, deleting their records, in one synced batch; *intents receives the
  // data intents it recorded.
  Status FinishAll(uint64_t txn, std::vector<std::pair<uint64_t, PreparedStep>> steps, bool commit,
                   std::vector<IntentRecord>* intents);

  // Removes an inode and its xattrs; a file with data gets a data-drop intent.
  void DeleteInode(const Attr& a, InodeCache* inodes, MetaStore::Batch* b,
                   std::vector<IntentRecord>* intents);

 private:
  MetaStore* meta_;
};

// A step on inode `ino`.
PeerStep InodeStep(StepKind kind, Ino ino);
// A step on entry (parent, name) -> ino (of file type `mode`), changing the
// parent's link count by `dir_links`; kPutEntry replaces `expect` (0: none).
PeerStep EntryStep(StepKind kind, Ino parent, const std::string& name, Ino ino, uint32_t mode,
                   int dir_links, Ino expect = 0);

// The inodes a step reads or changes, for locking.
void StepInodes(const PeerStep& s, std::vector<Ino>* out);

int64_t NowNs();
// A change of contents: mtime and ctime become `now`.
void Touch(Attr* a, int64_t now);

}  // namespace sealfs
