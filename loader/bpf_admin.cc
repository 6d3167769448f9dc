#include "bpf_admin.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <cstring>

#include "admin_request.h"
#include "cluster_config.h"
#include "cluster_secret.h"
#include "messages.h"
#include "rpc_channel.h"

namespace sealfs {
namespace {

std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name ? name : fmt::format("errno {}", err);
}

}  // namespace

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
  if (config->secret_file.empty())
    return fail(2, fmt::format("{} names no secret_file: servers take administrative requests "
                               "only signed with the cluster secret",
                               options.cluster_file));
  Result<ClusterSecret> secret = ClusterSecret::Load(config->secret_file);
  if (!secret.ok()) return fail(2, secret.status().message());

  AdminXdpBody body{.action = static_cast<uint8_t>(options.attach ? AdminXdpAction::kAttach
                                                                  : AdminXdpAction::kDetach),
                    .interface = options.attach ? options.interface : "",
                    .mode = static_cast<uint8_t>(options.mode == "generic" ? AdminXdpMode::kGeneric
                                                                           : AdminXdpMode::kNative),
                    .issued_ms = AdminNowMs()};
  AdminXdpReq req = SignAdminXdp(body, *secret);
  const std::string who =
      fmt::format("server {} ({}:{})", server->id, server->address, server->port);
  // Answered whatever membership version the request carries. Not retried:
  // the server refuses the same request twice.
  RpcChannel channel(*server, 0, options.timeout);
  Result<Reply> reply = channel.Call(Op::kAdminXdp, Encode(req), {}, /*idempotent=*/false);
  if (!reply.ok()) {
    return fail(1, fmt::format("{} cannot be asked: {}", who,
                               reply.status().message().empty() ? reply.status().ToString()
                                                                : reply.status().message()));
  }
  AdminReply what;
  const bool explained = Decode(reply->payload, &what);
  if (reply->status != 0) {
    return fail(1, fmt::format("{} refused: {} ({})", who,
                               explained ? what.message : std::strerror(reply->status),
                               ErrnoName(reply->status)));
  }
  if (!explained) return fail(1, fmt::format("{} sent a malformed reply", who));
  fmt::print(out, "{}: {}\n", who, what.message);
  return 0;
}

}  // namespace sealfs
