// IntentRunner: drives cross-server work recorded as intents to completion.
//
// A coordinator writes an IntentRecord in the same LevelDB batch as its
// local change, so after a crash the record says exactly what is left to do.
// The runner executes an intent's remaining steps (each idempotent), then
// deletes the record. Intents that fail (a peer is down) stay and are retried
// every second, and all pending intents are resumed at start-up.
#pragma once

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "data_fanout.h"
#include "meta_store.h"
#include "stripe_locks.h"

namespace sealfs {

enum class IntentKind : uint16_t {
  kDropData = 1,     // ino: delete every chunk (the inode is gone)
  kTruncData = 2,    // ino, size: drop chunk bytes at or beyond size
  kFinishPeers = 3,  // id: a committed operation; tell `peers` to commit their steps
};

class IntentRunner {
 public:
  IntentRunner(MetaStore* meta, StripeLocks* locks, DataFanout* fanout);
  ~IntentRunner();

  // Runs an intent that was just committed, in the caller's thread.
  Status RunNow(const IntentRecord& rec);
  // Wakes the background thread to run pending intents soon.
  void Kick();
  void Stop();
  // Returns once no intent is being executed. Once the store is frozen
  // (MetaStore::Freeze) none starts any more: its records go to another
  // server, which runs them.
  void WaitIdle();

 private:
  Status Execute(const IntentRecord& rec);
  void Loop();
  // Marks `id` running; false if it runs already or the store is frozen.
  bool Begin(uint64_t id);
  void End(uint64_t id);

  MetaStore* meta_;
  StripeLocks* locks_;
  DataFanout* fanout_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<uint64_t> running_;    // intents being executed, guarded by mu_
  std::condition_variable idle_;  // running_ became empty
  bool stop_ = false;
  bool kicked_ = true;
  std::thread thread_;
};

}  // namespace sealfs
