// AdminGate: decides whether this server acts on an administrative request
// (admin_request.h): only one the loader signed with the cluster secret,
// issued within kAdminMaxSkew of this server's clock, and not accepted
// before. Refusals are EPERM with a message saying which check failed.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>

#include "admin_request.h"
#include "cluster_secret.h"
#include "messages.h"
#include "status.h"

namespace sealfs {

class AdminGate {
 public:
  // `secret` may be null (the cluster file names no secret_file): then
  // every request is refused. It must outlive the gate. `now_ms` is the
  // clock (Unix milliseconds); tests give their own.
  explicit AdminGate(const ClusterSecret* secret, std::function<uint64_t()> now_ms = AdminNowMs);

  template <class Body>
  Status Admit(const SignedAdmin<Body>& req) {
    return Admit(secret_ && VerifyAdmin(req, *secret_), req.body.issued_ms, req.mac);
  }

 private:
  Status Admit(bool verified, uint64_t issued_ms, const std::string& mac);

  const ClusterSecret* secret_;
  std::function<uint64_t()> now_ms_;
  std::mutex mu_;
  // MACs of the requests accepted within the last 2 * kAdminMaxSkew, oldest
  // first: a request captured on the way is not accepted again while its
  // issue time is still in the window. Only requests that verified enter.
  std::deque<std::pair<uint64_t, std::string>> accepted_;  // (accepted at ms, mac)
  std::set<std::string> accepted_macs_;
};

}  // namespace sealfs
