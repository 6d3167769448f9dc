#include "admin_gate.h"

#include <fmt/format.h>

namespace sealfs {

AdminGate::AdminGate(const ClusterSecret* secret, std::function<uint64_t()> now_ms)
    : secret_(secret), now_ms_(std::move(now_ms)) {}

Status AdminGate::Admit(bool verified, uint64_t issued, const std::string& mac) {
  if (!secret_)
    return Status::Error(EPERM,
                         "this server has no cluster secret (no secret_file in its cluster "
                         "file), so it takes no administrative requests");
  if (!verified) return Status::Error(EPERM, "request not signed with this cluster's secret");
  const uint64_t now = now_ms_();
  const uint64_t skew = static_cast<uint64_t>(kAdminMaxSkew.count());
  const uint64_t apart = issued > now ? issued - now : now - issued;
  if (apart > skew)
    return Status::Error(
        EPERM, fmt::format("request issued {:.1f} s {} this server's clock (at most {} s "
                           "allowed): check the clocks of the loader's machine and this one",
                           apart / 1000.0, issued > now ? "ahead of" : "behind", skew / 1000));
  std::lock_guard lock(mu_);
  // A request older than the window is refused above, so MACs accepted more
  // than two windows ago can never be presented again in time.
  while (!accepted_.empty() && accepted_.front().first + 2 * skew < now) {
    accepted_macs_.erase(accepted_.front().second);
    accepted_.pop_front();
  }
  if (!accepted_macs_.insert(mac).second)
    return Status::Error(EPERM, "this very request was already carried out (a replay)");
  accepted_.emplace_back(now, mac);
  return Status::Ok();
}

}  // namespace sealfs
