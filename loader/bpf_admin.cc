#include "bpf_admin.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "admin_call.h"
#include "admin_request.h"
#include "cluster_config.h"
#include "cluster_secret.h"
#include "messages.h"

namespace sealfs {

int RunBpfAdmin(const BpfAdminOptions& options, std::ostream& out, std::ostream& err) {
  const char* verb = options.attach ? "attach" : "detach";
  auto fail = [&](int status, const std::string& why) {
    fmt::print(err, "sealfs-loader bpf {}: {}\n", verb, why);
    return status;
  };
  Result<ClusterConfig> config = LoadClusterConfig(options.cluster_file);
  if (!config.ok()) return fail(2, config.status().message());
  const ServerInfo* server = config->Find(static_cast<ServerId>(options.server));
  if (!server || options.server <= 0)
    return fail(2, fmt::format("{} lists no server {}", options.cluster_file, options.server));
  Result<ClusterSecret> secret = LoadClusterSecret(*config, options.cluster_file);
  if (!secret.ok()) return fail(2, secret.status().message());

  AdminXdpBody body{.action = static_cast<uint8_t>(options.attach ? AdminXdpAction::kAttach
                                                                  : AdminXdpAction::kDetach),
                    .interface = options.attach ? options.interface : "",
                    .mode = static_cast<uint8_t>(options.mode == "generic" ? AdminXdpMode::kGeneric
                                                                           : AdminXdpMode::kNative),
                    .issued_ms = AdminNowMs()};
  AdminXdpReq req = SignAdmin(body, *secret);
  Result<std::string> done = AdminCall(*server, Op::kAdminXdp, Encode(req), options.timeout);
  if (!done.ok()) return fail(1, done.status().message());
  fmt::print(out, "{}\n", *done);
  return 0;
}

}  // namespace sealfs
