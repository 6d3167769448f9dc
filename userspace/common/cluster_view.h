// ClusterView: the membership a process acts on now, and one channel per
// member (docs/design.md, "Membership changes").
//
// The membership may change under running operations. A caller takes
// Current() once per routing decision and keeps that snapshot while it uses
// it; Routed() runs an operation again, under the newer membership, when a
// server answered that it is on another version. Channels outlive
// memberships: a member keeps its channel while its address stays the same,
// and a replaced channel is kept until the view goes, so a pointer returned
// by Channel() stays valid.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "cluster_config.h"
#include "cluster_secret.h"
#include "membership.h"
#include "placement.h"
#include "rpc_channel.h"

namespace sealfs {

class ClusterView {
 public:
  struct Members {
    Members(ClusterConfig c, SignedMembership r)
        : config(std::move(c)), placement(config), record(std::move(r)) {}
    ClusterConfig config;
    Placement placement;
    SignedMembership record;  // what a server sends to a caller that is behind
  };

  struct Options {
    // A server's own id (no channel to itself); 0 in a client. A server's
    // calls to its peers are about inodes whose home never moves, so they go
    // to the same server again after a mismatch; a client's are routed again.
    ServerId self = 0;
    std::chrono::milliseconds timeout{3000};
    // Set on servers: only records that verify with it are adopted.
    const ClusterSecret* verify_with = nullptr;
    // Runs before a newer membership becomes current (a server stores it
    // there); an error keeps the current one.
    std::function<Status(const Members&)> before_adopt;
  };

  ClusterView(ClusterConfig config, SignedMembership record, Options options);

  std::shared_ptr<const Members> Current() const;
  uint64_t version() const { return Current()->config.version; }

  // The channel to server `id` as the current membership lists it (a member
  // or a server chunks move from); null for this server itself and for ids
  // the membership does not list.
  RpcChannel* Channel(ServerId id);
  // The channel to the server holding the metadata of inodes numbered with
  // `home` (ClusterConfig::HostOf); null if that is this server or none.
  RpcChannel* HomeChannel(ServerId home);
  // True on the server that holds the metadata of inodes numbered with
  // `home`: its own, and those of the removed servers it took over.
  bool Hosts(ServerId home) const {
    return home == options_.self || Current()->config.HostOf(home) == options_.self;
  }

  // Makes `record` current if it is newer than the current membership (and,
  // on a server, verifies and was stored). Returns the version current after.
  // The switch waits until no Serving is held (EAGAIN after 5 s), so nothing
  // served under the old version is still running once the new one is
  // current.
  Result<uint64_t> Adopt(const SignedMembership& record);

  // Held by a server while it serves a request that must not overlap a
  // membership switch (a chunk's READ, WRITE or truncate): taken before the
  // request's version is checked, released when it is done.
  class Serving {
   public:
    explicit Serving(ClusterView* view);
    ~Serving();
    Serving(const Serving&) = delete;
    Serving& operator=(const Serving&) = delete;

   private:
    ClusterView* view_;
  };

  // Runs after every adoption, outside every lock of the view. Set before
  // the view is shared.
  void set_after_adopt(std::function<void()> fn) { after_adopt_ = std::move(fn); }

  // Runs fn(members) until it returns something other than a membership
  // mismatch (rpc_channel.h), at most kMaxRoutings times; the channel has
  // adopted the newer membership (or offered this one to a server that is
  // behind) before it failed.
  static constexpr int kMaxRoutings = 8;
  template <class Fn>
  Status Routed(Fn&& fn) {
    Status s;
    for (int attempt = 1; attempt <= kMaxRoutings; ++attempt) {
      s = fn(*Current());
      if (!IsMembershipMismatch(s)) return s;
    }
    return Status::Error(EIO, "membership keeps changing: " + s.message());
  }

 private:
  static constexpr std::chrono::seconds kSwitchWait{5};
  bool OnMismatch(RpcChannel* channel, const Reply& reply);
  // Brings channels_ in line with `m`; mu_ held.
  void UpdateChannels(const Members& m);

  Options options_;
  mutable std::mutex mu_;
  std::shared_ptr<const Members> current_;                    // guarded by mu_
  std::map<ServerId, std::unique_ptr<RpcChannel>> channels_;  // guarded by mu_
  std::vector<std::unique_ptr<RpcChannel>> replaced_;         // guarded by mu_
  std::mutex adopt_mu_;  // one adoption at a time, before_adopt included
  std::function<void()> after_adopt_;
  // The switch's gate: a switch waits for servings to end, and new servings
  // wait while a switch is waiting.
  std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  int serving_ = 0;         // guarded by gate_mu_
  bool switching_ = false;  // guarded by gate_mu_
};

}  // namespace sealfs
