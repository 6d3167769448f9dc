// Fsck: checks (and optionally repairs) the whole namespace of a cluster from
// every server's metadata records and chunk files.
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
// Inodes a pending intent or a prepared step of a cross-server operation
// refers to are not judged (settling them is what makes them consistent).
// Pending intents and prepared steps are reported; --repair first settles
// the prepared steps (committed when their coordinator recorded the commit,
// undone otherwise), then checks, then finishes the intents.
//
// The checker works on a ClusterScan, which LoadCluster() reads page by page
// through an FsckSource: the stores of a stopped cluster (StoreSource), or the
// FSCK_SCAN_META and FSCK_LIST_CHUNKS requests of a running one (RpcSource,
// fsck_online.h). Both read the same raw records, so one checker serves both.
// Only a stopped cluster can be repaired.
#pragma once

#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "chunk_store.h"
#include "cluster_config.h"
#include "meta_store.h"

namespace sealfs {

// What fsck read from one server.
struct ServerScan {
  struct Dentry {
    Ino parent = 0;
    std::string name;
    DentryValue value;
  };
  std::vector<InodeRecord> inodes;
  std::vector<Dentry> dentries;
  std::map<std::pair<Ino, uint64_t>, std::string> index;  // readdir index: (dir, cookie) -> name
  std::vector<IntentRecord> intents;
  std::vector<PreparedStep> prepared;  // steps prepared for other servers' operations
  std::set<Ino> orphans;
  std::vector<ChunkInfo> chunks;
  std::vector<std::string> corrupt;  // keys of records that do not decode
};
using ClusterScan = std::map<ServerId, ServerScan>;

// Pages of one server's raw metadata records and chunk files.
class FsckSource {
 public:
  virtual ~FsckSource() = default;
  virtual Status ScanMeta(ServerId server, const FsckScanMetaReq& req, FsckScanMetaResp* resp) = 0;
  virtual Status ListChunks(ServerId server, const FsckListChunksReq& req,
                            FsckListChunksResp* resp) = 0;
};

// Reads every member of `config` through `source`. Errors name the server.
Result<ClusterScan> LoadCluster(const ClusterConfig& config, FsckSource* source);

// The stores of a stopped cluster, opened by fsck itself.
struct ServerStores {
  std::unique_ptr<MetaStore> meta;
  std::unique_ptr<ChunkStore> chunks;
};

// Reads the stores directly, with the functions the servers answer fsck's requests with.
class StoreSource : public FsckSource {
 public:
  explicit StoreSource(std::map<ServerId, ServerStores>* stores) : stores_(stores) {}
  Status ScanMeta(ServerId server, const FsckScanMetaReq& req, FsckScanMetaResp* resp) override;
  Status ListChunks(ServerId server, const FsckListChunksReq& req,
                    FsckListChunksResp* resp) override;

 private:
  std::map<ServerId, ServerStores>* stores_;
};

// One inconsistency.
struct FsckFinding {
  std::string text;      // what is wrong, naming the server
  std::string evidence;  // the records it was concluded from (compared between scans)
  bool repaired = false;
};

class Fsck {
 public:
  struct Options {
    bool repair = false;  // fix what is found in the stores (a stopped cluster)
    bool live = false;    // the cluster is running: intents are operations in flight
  };
  struct Report {
    int problems = 0;
    int repaired = 0;
    int pending_intents = 0;
    std::vector<FsckFinding> findings;
  };

  // Checks `scan`. Notes (pending intents, kept orphans) go to `out`, and so
  // do findings unless options.live (the caller reports those that persist).
  // `stores` is needed only with options.repair.
  Fsck(const ClusterConfig& config, ClusterScan scan, std::map<ServerId, ServerStores>* stores,
       Options options, std::ostream* out)
      : config_(config), scan_(std::move(scan)), stores_(stores), options_(options), out_(out) {}

  Report Run();

 private:
  struct Link {
    ServerId server;
    Ino parent;
    std::string name;
    DentryValue value;
  };
  void Problem(std::string text, std::string evidence, bool repaired);
  void Commit(ServerId server, MetaStore::Batch* b);
  bool InFlight(Ino ino) const { return in_flight_.count(ino) > 0; }
  // The server that holds the records of `ino` (its home, or the heir of a
  // removed home).
  ServerId Holder(Ino ino) const { return config_.HostOf(HomeOf(ino)); }
  void LoadInodes();
  void CheckEntries();
  void CheckLinkCounts();
  void CheckChunks();
  void FinishIntents();
  Ino LostAndFound();

  const ClusterConfig& config_;
  ClusterScan scan_;
  std::map<ServerId, ServerStores>* stores_;
  Options options_;
  std::ostream* out_;
  Report report_;

  std::map<Ino, InodeRecord> inodes_;
  std::vector<Link> links_;          // valid entries
  std::map<Ino, uint64_t> pending_;  // ino -> smallest size a pending intent cuts it to
  std::set<Ino> in_flight_;          // inodes a pending intent refers to
  std::set<Ino> orphans_;
};

// Commits or undoes every prepared step in the stores of a stopped cluster,
// as the servers' resolvers would.
void SettlePreparedSteps(const ClusterConfig& config, std::map<ServerId, ServerStores>* stores,
                         std::ostream* out);

// Where the stores of a stopped cluster hold a newer membership than
// `config` (the cluster file's), takes its version and retired servers: the
// records of a removed server's inodes are at its heir.
void TakeStoredMembership(const std::map<ServerId, ServerStores>& stores, ClusterConfig* config);

// Loads the stores of a stopped cluster and checks them (with repair, settles
// prepared steps first and fixes what it finds).
Result<Fsck::Report> CheckStoppedCluster(const ClusterConfig& config,
                                         std::map<ServerId, ServerStores>* stores, bool repair,
                                         std::ostream* out);

}  // namespace sealfs
