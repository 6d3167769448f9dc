// ChunkMigrator: moves the chunks that a membership change gave this server
// from the servers that held them (docs/design.md, "Moving chunks").
//
// A membership whose servers changed names the servers chunks are moving from
// (ClusterConfig::moving_from). Every server then pulls, from each of those,
// the chunks the new placement gives it: MIGRATE_LIST pages through what a
// source holds for it, MIGRATE_PULL copies one chunk, which is stored durably
// here, and MIGRATE_DROP deletes it at the source. Meanwhile clients already
// send every READ and WRITE of a moved chunk here: before serving one, the
// chunk is pulled at once unless it was already (EnsureHere). Pulls carry the
// new membership version, so a source serves them only once it acts on that
// version, after its last write under the old one: from then on its copy only
// shrinks (truncates). A truncate that reaches this server before a pull
// would bring back old bytes is remembered (its size, the smallest one) and
// applied to every chunk pulled later. Progress (cursors per source, those
// sizes, the version migrated to once done) is kept in the meta store, so a
// migration resumes where it was after a restart of any server.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "chunk_store.h"
#include "cluster_view.h"
#include "meta_store.h"
#include "stripe_locks.h"

namespace sealfs {

class ChunkMigrator {
 public:
  ChunkMigrator(ServerId self, MetaStore* meta, ChunkStore* chunks, ClusterView* view);
  ~ChunkMigrator() { Stop(); }
  ChunkMigrator(const ChunkMigrator&) = delete;
  ChunkMigrator& operator=(const ChunkMigrator&) = delete;

  // Before `config` becomes current (at start, and while the membership
  // switches): if it moves chunks and this server has not finished its part,
  // the first access of a chunk moved here pulls it from then on.
  void Prepare(const ClusterConfig& config);
  // Starts the background pulls of the prepared migration, once its
  // membership is current.
  void Start();
  void Stop();

  // Before a client's READ or WRITE of (ino, chunk): pulls the chunk from
  // the server that held it if it moved here and is not here yet.
  Status EnsureHere(Ino ino, uint64_t chunk);
  // PEER_TRUNC_CHUNKS: truncates here, and while a migration runs remembers
  // the size for chunks still to be pulled.
  Result<int64_t> Truncate(Ino ino, uint64_t size);

  // The source's side: MIGRATE_LIST, MIGRATE_PULL, MIGRATE_DROP.
  Status List(const MigrateListReq& req, FsckListChunksResp* resp) const;
  Status Pull(const MigratePullReq& req, MigratePullResp* resp) const;
  Status Drop(const ChunkRef& ref);

  // ADMIN_MIGRATION: pauses the background pulls, or limits them to `rate`
  // bytes per second (0: no limit). Kept across restarts and migrations.
  Status SetControl(bool paused, uint64_t rate);

  struct Progress {
    bool active = false;
    uint64_t version = 0;  // the membership version chunks move for
    uint64_t pulled_chunks = 0, pulled_bytes = 0;
    bool paused = false;
    uint64_t rate = 0;
  };
  Progress progress() const;

 private:
  // A membership's migration.
  struct Plan;
  void Run(std::shared_ptr<const Plan> plan);
  // Pulls every chunk `source` holds for this server; false if stopped.
  bool PullAllFrom(const Plan& plan, ServerId source);
  // Pulls (ino, chunk) from `source` unless it is here already; the caller
  // holds the inode's stripe.
  Status PullLocked(const Plan& plan, ServerId source, Ino ino, uint64_t chunk);
  Status Finish(const Plan& plan);
  // Waits while paused, and as long as the rate limit asks after `bytes`
  // more were pulled; false if stopped or superseded meanwhile.
  bool Pace(const Plan& plan, uint64_t bytes);

  const ServerId self_;
  MetaStore* meta_;
  ChunkStore* chunks_;
  ClusterView* view_;
  StripeLocks locks_;  // per inode: pulls, truncates and the first access
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::shared_ptr<const Plan> plan_;         // guarded by mu_; null when none runs
  uint64_t started_ = 0;                     // guarded by mu_: the plan version Start ran
  std::set<std::pair<Ino, uint64_t>> here_;  // guarded by mu_: pulled or checked
  std::map<Ino, uint64_t> floors_;           // guarded by mu_: smallest truncate per inode
  bool stop_ = false;                        // guarded by mu_
  bool paused_ = false;                      // guarded by mu_
  uint64_t rate_ = 0;                        // guarded by mu_
  // The rate limit's budget: when the bytes pulled so far may be done.
  std::chrono::steady_clock::time_point paced_until_;  // guarded by mu_
  std::thread thread_;
  std::atomic<uint64_t> pulled_chunks_{0}, pulled_bytes_{0};
};

}  // namespace sealfs
