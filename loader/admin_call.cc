#include "admin_call.h"

#include <fmt/format.h>

#include <cstring>

#include "rpc_channel.h"

namespace sealfs {
namespace {

std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name ? name : fmt::format("errno {}", err);
}

}  // namespace

Result<ClusterSecret> LoadClusterSecret(const ClusterConfig& config,
                                        const std::string& cluster_file) {
  if (config.secret_file.empty())
    return Status::Error(EINVAL, fmt::format("{} names no secret_file: servers take membership "
                                             "changes and administrative requests only signed "
                                             "with the cluster secret",
                                             cluster_file));
  return ClusterSecret::Load(config.secret_file);
}

Result<std::string> AdminCall(const ServerInfo& server, Op op, const std::vector<uint8_t>& request,
                              std::chrono::milliseconds timeout) {
  const std::string who = fmt::format("server {} ({}:{})", server.id, server.address, server.port);
  // Answered whatever membership version the request carries.
  RpcChannel channel(server, 0, timeout);
  Result<Reply> reply = channel.Call(op, request, {}, /*idempotent=*/false);
  if (!reply.ok()) {
    return Status::Error(reply.err(),
                         fmt::format("{} cannot be asked: {}", who,
                                     reply.status().message().empty() ? reply.status().ToString()
                                                                      : reply.status().message()));
  }
  AdminReply what;
  const bool explained = Decode(reply->payload, &what);
  if (reply->status != 0) {
    return Status::Error(reply->status,
                         fmt::format("{} refused: {} ({})", who,
                                     explained ? what.message : std::strerror(reply->status),
                                     ErrnoName(reply->status)));
  }
  if (!explained) return Status::Error(EIO, fmt::format("{} sent a malformed reply", who));
  return fmt::format("{}: {}", who, what.message);
}

}  // namespace sealfs
