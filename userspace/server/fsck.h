// Fsck: checks (and optionally repairs) the whole namespace of a stopped
// cluster by reading every server's metadata store and chunk files.
//
// Invariants checked (docs/design.md, "Invariants"):
//  - the root directory exists on the root server;
//  - every entry lives in an existing local directory and names an existing
//    inode of the type it records, and its readdir index agrees with it;
//  - every inode other than the root is reachable: a directory by exactly one
//    entry whose parent matches its parent pointer, anything else by as many
//    entries as its link count; a directory's link count is 2 + subdirectories;
//  - every chunk belongs to an existing inode and lies before its end of file,
//    unless a pending intent is about to remove it.
// Pending intents are reported; --repair finishes them.
#pragma once

#include <map>
#include <memory>
#include <ostream>
#include <set>

#include "chunk_store.h"
#include "cluster_config.h"
#include "meta_store.h"

namespace sealfs {

struct ServerStores {
  std::unique_ptr<MetaStore> meta;
  std::unique_ptr<ChunkStore> chunks;
};

class Fsck {
 public:
  struct Report {
    int problems = 0;
    int repaired = 0;
    int pending_intents = 0;
  };

  Fsck(const ClusterConfig& config, std::map<ServerId, ServerStores>* stores, bool repair,
       std::ostream* out)
      : config_(config), stores_(stores), repair_(repair), out_(out) {}

  Report Run();

 private:
  struct Link {
    ServerId server;
    Ino parent;
    std::string name;
    DentryValue value;
  };
  void Problem(const std::string& what, bool repaired);
  void Commit(ServerId server, MetaStore::Batch* b);
  void LoadInodes();
  void CheckEntries();
  void CheckLinkCounts();
  void CheckChunks();
  void FinishIntents();
  Ino LostAndFound();

  const ClusterConfig& config_;
  std::map<ServerId, ServerStores>* stores_;
  bool repair_;
  std::ostream* out_;
  Report report_;

  std::map<Ino, InodeRecord> inodes_;
  std::vector<Link> links_;          // valid entries
  std::map<Ino, uint64_t> pending_;  // ino -> smallest size a pending intent cuts it to
  std::set<Ino> orphans_;
};

}  // namespace sealfs
