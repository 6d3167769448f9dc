// MetaStore: the server's metadata in LevelDB.
//
// Key layout (all integers big-endian so that keys sort numerically):
//   I <ino>                  -> InodeRecord
//   D <parent> <name>        -> DentryValue        (entries of a local directory)
//   E <parent> <cookie>      -> name               (readdir order, stable cookies)
//   X <ino> <name>           -> xattr value
//   N <intent id>            -> IntentRecord       (cross-server operations in flight)
//   R <txn id> <seq>         -> PreparedStep       (steps prepared for another server's operation)
//   O <ino>                  -> ""                 (orphan: no links, still open)
//   M <name>                 -> counters and identity
// A mutation is a Batch committed with one synced LevelDB write: it is
// durable and atomic once Commit() returns. LevelDB groups concurrent synced
// writers into one log write, so parallel mutations share an fsync.
#pragma once

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/write_batch.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ino.h"
#include "messages.h"
#include "status.h"

namespace sealfs {

struct InodeRecord {
  Attr attr;
  std::string symlink;       // target of a symlink
  uint64_t next_cookie = 2;  // directories: next readdir cookie to hand out
  template <class V>
  void Fields(V& v) {
    v(attr, symlink, next_cookie);
  }
};

struct DentryValue {
  Ino ino = 0;
  uint32_t mode = 0;  // file type of the target
  uint64_t cookie = 0;
  template <class V>
  void Fields(V& v) {
    v(ino, mode, cookie);
  }
};

// A cross-server operation in flight, owned by its coordinator.
struct IntentRecord {
  uint64_t id = 0;
  uint16_t kind = 0;  // IntentKind
  Ino parent = 0;
  std::string name;
  Ino parent2 = 0;
  std::string name2;
  Ino ino = 0;
  Ino ino2 = 0;
  uint32_t mode = 0;
  uint64_t size = 0;
  std::vector<uint16_t> peers;  // servers holding prepared steps of this operation
  template <class V>
  void Fields(V& v) {
    v(id, kind, parent, name, parent2, name2, ino, ino2, mode, size, peers);
  }
};

// A step this server prepared for another server's operation, with what
// undoes it (docs/design.md, "Cross-server operations").
struct PreparedStep {
  uint64_t txn = 0;
  PeerStep step;         // as applied (kCreateInode: with the inode number chosen)
  DentryValue entry;     // kPutEntry: the entry written; kDeleteEntry: the entry removed
  uint8_t replaced = 0;  // kPutEntry: 1 when `victim` was overwritten
  DentryValue victim;
  uint32_t old_nlink = 0;  // kRemoveDir
  Ino old_parent = 0;      // kSetParent
  int64_t prepared_ns = 0;
  template <class V>
  void Fields(V& v) {
    v(txn, step, entry, replaced, victim, old_nlink, old_parent, prepared_ns);
  }
};

class MetaStore {
 public:
  class Batch {
   public:
    void PutInode(const InodeRecord& rec);
    void DeleteInode(Ino ino);
    // Adds an entry; the cookie must be allocated from the parent's record.
    void PutDentry(Ino parent, std::string_view name, const DentryValue& v);
    void DeleteDentry(Ino parent, std::string_view name, uint64_t cookie);
    void DeleteCookieIndex(Ino parent, uint64_t cookie);
    void PutXattr(Ino ino, std::string_view name, std::string_view value);
    void DeleteXattr(Ino ino, std::string_view name);
    void PutIntent(const IntentRecord& rec);
    void DeleteIntent(uint64_t id);
    void PutPrepared(uint64_t seq, const PreparedStep& rec);
    void DeletePrepared(uint64_t txn, uint64_t seq);
    void PutOrphan(Ino ino);
    void DeleteOrphan(Ino ino);
    void PutCounter(std::string_view name, uint64_t value);
    void DeleteCounter(std::string_view name);
    // The membership this server acts on (membership_keeper.h).
    void PutMembership(const SignedMembership& m);
    leveldb::WriteBatch* raw() { return &batch_; }
    // True if the batch changes metadata records (not only counters).
    bool changes_metadata() const { return changes_metadata_; }

    // What clients may have cached that this batch changes: the inodes whose
    // record it puts or deletes, and the entries it adds or removes.
    const std::vector<Ino>& changed_inodes() const { return changed_inodes_; }
    const std::vector<EntryName>& changed_entries() const { return changed_entries_; }

   private:
    leveldb::WriteBatch batch_;
    bool changes_metadata_ = false;
    std::vector<Ino> changed_inodes_;
    std::vector<EntryName> changed_entries_;
  };

  // Runs after every successful Commit, on the committing thread, before
  // Commit returns; it may block (the cache registry waits there for clients
  // to drop what the batch changed). Set once, before the store is shared.
  using CommitObserver = std::function<void(const Batch&)>;
  void SetCommitObserver(CommitObserver observer) { observer_ = std::move(observer); }

  // Opens (creating if needed) the store under `dir`. The store records the
  // server id it was created for and refuses to open for another id.
  static Result<std::unique_ptr<MetaStore>> Open(const std::string& dir, ServerId id);

  Result<InodeRecord> GetInode(Ino ino) const;
  Result<DentryValue> GetDentry(Ino parent, std::string_view name) const;
  Result<std::string> GetXattr(Ino ino, std::string_view name) const;
  // A counter written with Batch::PutCounter; ENOENT if never written.
  Result<uint64_t> GetCounter(std::string_view name) const;
  // Calls fn(name, value) for every counter whose name starts with `prefix`.
  void ScanCounters(std::string_view prefix,
                    const std::function<void(std::string_view, uint64_t)>& fn) const;
  // The membership stored with Batch::PutMembership; ENOENT if none.
  Result<SignedMembership> GetMembership() const;

  // Calls fn(name, value, cookie) for entries of `parent` with cookie >= from,
  // in cookie order, until fn returns false.
  void ScanDentries(Ino parent, uint64_t from,
                    const std::function<bool(std::string_view, const DentryValue&)>& fn) const;
  bool DirectoryEmpty(Ino parent) const;
  void ScanXattrs(Ino ino, const std::function<void(std::string_view)>& fn) const;
  void ScanInodes(const std::function<void(const InodeRecord&)>& fn) const;
  void ScanAllDentries(
      const std::function<void(Ino, std::string_view, const DentryValue&)>& fn) const;
  // Calls fn(parent, cookie, name) for every readdir index key.
  void ScanCookieIndex(const std::function<void(Ino, uint64_t, std::string_view)>& fn) const;
  void ScanIntents(const std::function<void(const IntentRecord&)>& fn) const;
  Result<IntentRecord> GetIntent(uint64_t id) const;
  // Calls fn(seq, step) for the prepared steps of `txn` (0: of every operation).
  void ScanPrepared(uint64_t txn,
                    const std::function<void(uint64_t, const PreparedStep&)>& fn) const;
  void ScanOrphans(const std::function<void(Ino)>& fn) const;
  // For fsck: appends the raw records whose keys start with `prefix`, from key
  // `start` on, in key order and from one implicit snapshot, until about
  // max_bytes (at least one record). Returns true when none is left; otherwise
  // *next is the key to continue from.
  bool ScanRaw(std::string_view prefix, std::string_view start, size_t max_bytes,
               std::vector<KeyValue>* out, std::string* next) const;

  // Deletes every xattr of `ino` into the batch.
  void DeleteAllXattrs(Ino ino, Batch* b) const;

  Status Commit(Batch* b);

  // Removing servers (metadata_handoff.h). Freeze: from now on every Commit
  // that changes metadata records fails with ERESTART (another server holds
  // them); counters and the membership still change. Returns once the
  // commits under way are done.
  void Freeze();
  bool frozen() const { return frozen_.load(); }
  // While the records of the inodes numbered with `homes` are copied here,
  // reads of their inodes, entries and xattrs, and of every intent and
  // prepared step, wait until EndImport().
  void BeginImport(std::set<ServerId> homes);
  void EndImport();
  bool importing() const { return importing_.load(); }
  // A page of the metadata records (every key but the counters) from key
  // `start` on, as ScanRaw.
  bool ScanMetadata(std::string_view start, size_t max_bytes, std::vector<KeyValue>* out,
                    std::string* next) const;
  // Stores records another store's ScanMetadata returned, in one synced
  // batch. Prepared steps are numbered anew by `source`, so that they cannot
  // meet steps of the same operation prepared here. Storing a page again
  // changes nothing.
  Status CommitImported(std::span<const KeyValue> records, ServerId source);

  // Allocation of local inode numbers and intent ids; durable high-water
  // marks are advanced in blocks so that allocation rarely writes.
  Result<Ino> AllocateIno();
  Result<uint64_t> AllocateIntentId();

  ServerId server_id() const { return id_; }
  // Number of inodes stored here (counted at open, then kept by callers).
  uint64_t inode_count() const { return inode_count_.load(); }
  void AdjustInodeCount(int64_t delta) { inode_count_ += delta; }

 private:
  explicit MetaStore(ServerId id) : id_(id) {}
  Result<uint64_t> Allocate(std::string_view counter, std::atomic<uint64_t>* next,
                            uint64_t* reserved);
  Status LoadCounters();

  // Declared before db_: the database must close before its cache and filter go.
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  std::unique_ptr<leveldb::DB> db_;
  ServerId id_;
  std::mutex alloc_mu_;
  std::atomic<uint64_t> next_local_{kRootLocal + 1};
  uint64_t reserved_local_ = 0;
  std::atomic<uint64_t> next_intent_{1};
  uint64_t reserved_intent_ = 0;
  std::atomic<uint64_t> inode_count_{0};
  CommitObserver observer_;
  // Waits for the records being imported (home 0: for any import).
  void AwaitImport(ServerId home) const;
  std::shared_mutex freeze_mu_;  // held shared by every Commit
  std::atomic<bool> frozen_{false};
  std::atomic<bool> importing_{false};
  mutable std::mutex import_mu_;
  mutable std::condition_variable import_cv_;
  std::set<ServerId> import_homes_;  // guarded by import_mu_
};

}  // namespace sealfs
