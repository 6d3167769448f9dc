// MetadataHandoff: moves the metadata of a server being removed to its heir
// (docs/design.md, "Removing servers").
//
// Inode numbers name their home server (ino.h), so a removed server's inodes
// keep their numbers: the membership that removes server X lists it only
// among the servers chunks move from, and every retired id whose records X
// holds (its own, and those it took over earlier) gets another member as
// host, with `from` = X (ClusterConfig::retired).
//
// On X, that membership freezes the metadata store before it becomes
// current: every change fails with ERESTART from then on, which sends the
// client to the heir. X serves its records page by page (MIGRATE_META) once
// what clients may have cached from it has expired (on_leave: the cache
// sessions are closed, the UDP answers stopped) and no intent of its runs.
//
// On the heir, the membership arms the store's waits for those inodes before
// it becomes current (MetaStore::BeginImport); a background copy then stores
// every page (MetaStore::CommitImported), records that it is done (per
// source and version), lifts the waits and tells X (MIGRATE_META_DONE),
// which records it too. A crash of either repeats the copy from the start:
// X's records no longer change, and storing a page again changes nothing.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "cluster_view.h"
#include "meta_store.h"

namespace sealfs {

class MetadataHandoff {
 public:
  using Clock = std::chrono::steady_clock;

  MetadataHandoff(ServerId self, MetaStore* meta, ClusterView* view);
  ~MetadataHandoff() { Stop(); }
  MetadataHandoff(const MetadataHandoff&) = delete;
  MetadataHandoff& operator=(const MetadataHandoff&) = delete;

  // Set before Prepare. on_leave runs once on a leaving server, before it
  // serves its first page: it ends what clients may have cached here and
  // returns when the last of that expires. quiesce returns once nothing
  // started before the freeze still runs here. after_import runs once the
  // records are here.
  struct Hooks {
    std::function<Clock::time_point()> on_leave;
    std::function<void()> quiesce;
    std::function<void()> after_import;
  };
  void set_hooks(Hooks hooks) { hooks_ = std::move(hooks); }

  // Before `config` becomes current (at start, and inside the switch): a
  // leaving server freezes its store; an heir that has not finished copying
  // arms the waits for the inodes to come.
  void Prepare(const ClusterConfig& config);
  // Starts the heir's copy, once its membership is current.
  void Start();
  void Stop();

  // The leaving server's side: MIGRATE_META (EAGAIN until it is ready) and
  // MIGRATE_META_DONE.
  Status Export(const MigrateMetaReq& req, FsckScanMetaResp* resp);
  Status Exported(uint64_t version);

  struct Progress {
    bool leaving = false;
    bool handed_over = false;  // leaving: the heir holds every record
    bool importing = false;    // heir: records still to copy
  };
  Progress progress() const;

 private:
  struct Plan {
    uint64_t version = 0;
    std::set<ServerId> sources;
  };
  void Run(Plan plan);
  // Copies every record `source` holds; false if stopped.
  bool CopyFrom(const Plan& plan, ServerId source);
  // Waits kRetryPause; false if stopped meanwhile.
  bool Pause();

  const ServerId self_;
  MetaStore* meta_;
  ClusterView* view_;
  Hooks hooks_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  uint64_t leaving_version_ = 0;  // guarded by mu_: 0 unless leaving
  bool left_ = false;             // guarded by mu_: on_leave ran
  Clock::time_point ready_at_;    // guarded by mu_: when pages may be served
  std::unique_ptr<Plan> plan_;    // guarded by mu_: the copy to run, or running
  bool started_ = false;          // guarded by mu_
  bool stop_ = false;             // guarded by mu_
  std::thread thread_;
};

}  // namespace sealfs
