#include "membership.h"

#include <fmt/format.h>

#include "messages.h"

namespace sealfs {
namespace {

constexpr std::string_view kDomain = "sealfs membership record";

}  // namespace

SignedMembership MakeMembership(const ClusterConfig& config, const ClusterSecret* secret) {
  ClusterConfig copy = config;
  std::vector<uint8_t> bytes = Encode(copy);
  SignedMembership m{.record = std::string(bytes.begin(), bytes.end())};
  if (secret) {
    ClusterSecret::Mac mac = secret->Sign(kDomain, m.record);
    m.mac.assign(mac.begin(), mac.end());
  }
  return m;
}

Result<ClusterConfig> ReadMembership(const SignedMembership& m, const ClusterSecret* secret) {
  if (secret && !secret->Verify(kDomain, m.record, m.mac))
    return Status::Error(EPERM, "membership record not signed with this cluster's secret");
  ClusterConfig config;
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(m.record.data()),
                                 m.record.size());
  if (!Decode(bytes, &config)) return Status::Error(EINVAL, "malformed membership record");
  if (Status s = CheckClusterConfig(config); !s.ok())
    return Status::Error(EINVAL, "invalid membership record: " + s.message());
  return config;
}

}  // namespace sealfs
