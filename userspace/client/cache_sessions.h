// CacheSessions: a caching mount's sessions with every server
// (docs/design.md, "The --bpf client cache").
//
// One thread per server keeps a connection of its own to that server: it
// opens the session (CACHE_REGISTER), renews its lease every third of it
// (CACHE_RENEW), and answers the server's CACHE_INVALIDATE requests by
// calling the Listener, acknowledging only once the Listener has returned.
//
// The lease the kernel may serve under is the earliest of the servers' lease
// ends, each counted from when its last successful renewal was *sent* (so it
// ends before the server's own count), less a margin. A server without a live
// session makes it zero: with any server unreachable, nothing is served from
// the cache. Before a session is opened again after it was lost, the Listener
// is told to drop everything (a REGISTER promises that nothing is cached).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cluster_config.h"
#include "messages.h"

namespace sealfs {

class CacheSessions {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // Drop these answers; the server is told once this returns.
    virtual void Invalidate(const CacheInvalidateReq& req) = 0;
    // Drop every cached answer (a session was lost or is about to open).
    virtual void DropAll() = 0;
    // The kernel may answer from the cache until this CLOCK_MONOTONIC time.
    virtual void SetLease(uint64_t deadline_ns) = 0;
  };

  CacheSessions(const ClusterConfig& config, uint64_t client_id, std::chrono::milliseconds lease,
                Listener* listener);
  ~CacheSessions();
  CacheSessions(const CacheSessions&) = delete;
  CacheSessions& operator=(const CacheSessions&) = delete;

  uint64_t client_id() const { return client_id_; }
  // True while the session with `server` is open: caching requests may go there.
  bool Open(ServerId server) const;
  // The server refused a caching request (EKEYEXPIRED): open the session again.
  void Lost(ServerId server);
  // Waits until every session is open, at most `timeout`; false if some is not.
  bool WaitAllOpen(std::chrono::milliseconds timeout) const;

 private:
  struct Server;
  void Run(Server* s);
  void PublishLease();

  const uint64_t client_id_;
  const std::chrono::milliseconds lease_;
  Listener* const listener_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;  // serialises DropAll/SetLease calls and lease ends
  std::vector<std::unique_ptr<Server>> servers_;
};

}  // namespace sealfs
