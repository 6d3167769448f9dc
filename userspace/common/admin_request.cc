#include "admin_request.h"

namespace sealfs {
namespace {

constexpr std::string_view kXdpDomain = "sealfs admin xdp";

std::string BodyBytes(const AdminXdpBody& body) {
  AdminXdpBody copy = body;
  std::vector<uint8_t> bytes = Encode(copy);
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace

uint64_t AdminNowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

AdminXdpReq SignAdminXdp(const AdminXdpBody& body, const ClusterSecret& secret) {
  ClusterSecret::Mac mac = secret.Sign(kXdpDomain, BodyBytes(body));
  return AdminXdpReq{.body = body, .mac = std::string(mac.begin(), mac.end())};
}

bool VerifyAdminXdp(const AdminXdpReq& req, const ClusterSecret& secret) {
  return secret.Verify(kXdpDomain, BodyBytes(req.body), req.mac);
}

}  // namespace sealfs
