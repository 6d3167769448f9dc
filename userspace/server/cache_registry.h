// CacheRegistry: which clients may cache which of this server's answers, and
// the invalidations that keep their caches right (docs/design.md, "The --bpf
// client cache").
//
// A caching client opens a session with CACHE_REGISTER on a connection of its
// own; this server later sends CACHE_INVALIDATE requests on that connection.
// The session holds a lease, extended by CACHE_RENEW: the client's kernel
// stops answering from its cache when the lease runs out, so this server never
// has to wait for a client longer than the lease.
//
// Contracts:
// - Note*() must be called before the answer it covers is read from the store,
//   and Committed() after the change is durable: then a change that a cached
//   answer misses always finds the interest and is invalidated.
// - Committed() returns once every client that may have cached a changed
//   answer has acknowledged dropping it, or has lost its session (its lease
//   ran out unacknowledged: the session is expired and the client must drop
//   everything it cached from this server before it registers again) -
//   unless a DeferredAcks is alive on the calling thread: then it only sends
//   the invalidations, and DeferredAcks::Wait() waits for them. A request
//   handler holds one so that it waits after releasing its locks (a slow
//   client must not hold up every other change in the same directory) and
//   still before it replies.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "connection.h"
#include "frame.h"
#include "messages.h"
#include "status.h"

namespace sealfs {

class CacheRegistry {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    std::chrono::milliseconds max_lease{2000};
    // Mutations committed before start + grace wait until then: leases
    // granted by this server's previous run may still be live in clients.
    std::chrono::milliseconds grace{0};
    // Interest records per session; a session over the limit is invalidated
    // entirely and starts afresh.
    size_t max_interest = 1'000'000;
  };

  // `persist_first_session` runs before the first session of this run is
  // granted: it records durably that leases may exist, so that the next run
  // starts with a grace period.
  CacheRegistry(Options opts, std::function<Status()> persist_first_session);

  // CACHE_REGISTER on `conn`: replaces any session of the same client (the
  // client promises it holds nothing from this server). Returns the lease
  // granted, in milliseconds.
  Result<uint32_t> Register(const std::shared_ptr<Connection>& conn, const CacheRegisterReq& req);
  // CACHE_RENEW: EKEYEXPIRED without a live session, EBUSY (lease not
  // extended) while an invalidation sent to the client is unacknowledged.
  Status Renew(uint64_t client);

  // The client may now cache the attributes of `ino`, or the entries of
  // directory `dir`. EKEYEXPIRED without a live session.
  Status NoteAttr(uint64_t client, Ino ino);
  Status NoteDir(uint64_t client, Ino dir);

  // The commit observer of the metadata store (see the contract above).
  void Committed(std::span<const Ino> inodes, std::span<const EntryName> entries);

  // Defers the waiting of Committed() calls made on this thread while it
  // lives (see the contract above); DeferredAcks nest.
  class DeferredAcks {
   public:
    explicit DeferredAcks(CacheRegistry* registry);  // null: defers nothing
    ~DeferredAcks() { Wait(); }
    DeferredAcks(const DeferredAcks&) = delete;
    DeferredAcks& operator=(const DeferredAcks&) = delete;
    // Returns once every invalidation deferred so far is settled.
    void Wait();

   private:
    friend class CacheRegistry;
    CacheRegistry* registry_;
    DeferredAcks* outer_;
    std::vector<uint64_t> ids_;  // invalidations sent, not yet waited for
  };

  // A response frame on a session's connection (an acknowledgement).
  void OnResponse(const std::shared_ptr<Connection>& conn, const FrameHeader& h);
  // A connection closed: its session stays until its lease ends, so that a
  // mutation waits for a client that can no longer be told.
  void OnClose(const std::shared_ptr<Connection>& conn);

  // Ends every session and grants none from now on (the server is leaving
  // the cluster). Returns when the last lease granted runs out: until then
  // a client may still answer from what it cached here.
  Clock::time_point Close();

  size_t session_count() const { return live_sessions_.load(); }

 private:
  struct Session {
    uint64_t client = 0;
    std::shared_ptr<Connection> conn;
    std::chrono::milliseconds lease{0};
    Clock::time_point lease_end;
    bool expired = false;
    int unacked = 0;  // invalidations sent and not yet acknowledged
    std::unordered_set<Ino> attrs;
    std::unordered_set<Ino> dirs;
  };
  struct Pending {
    std::shared_ptr<Session> session;
    Clock::time_point deadline;
    bool acked = false;
  };

  Result<std::shared_ptr<Session>> LiveSession(uint64_t client);  // mu_ held
  // Records interest in the entries of directory `ino`, or in its attributes.
  Status Note(uint64_t client, Ino ino, bool entries);
  void Expire(const std::shared_ptr<Session>& s, const char* why);  // mu_ held
  // Waits until each of the invalidations `ids` is acknowledged, or expires
  // its session when the session's lease ends first.
  void WaitForAcks(std::span<const uint64_t> ids);
  void WaitForGrace();

  const Options opts_;
  const Clock::time_point grace_end_;
  std::atomic<size_t> live_sessions_{0};

  std::mutex persist_mu_;
  std::function<Status()> persist_first_session_;  // guarded by persist_mu_
  bool persisted_ = false;                         // guarded by persist_mu_

  std::mutex mu_;
  std::condition_variable acked_;
  std::unordered_map<uint64_t, std::shared_ptr<Session>> sessions_;  // by client id
  std::map<uint64_t, Pending> pending_;                              // by request id
  uint64_t next_request_ = 1;
  bool closed_ = false;  // guarded by mu_
};

}  // namespace sealfs
