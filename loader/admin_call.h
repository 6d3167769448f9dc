// AdminCall: sends one signed administrative request (admin_request.h) to
// one server and reads what the server says it did, or why it refused.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "cluster_config.h"
#include "cluster_secret.h"
#include "messages.h"
#include "status.h"

namespace sealfs {

// The secret the cluster file names, or why there is none: the error names
// the file.
Result<ClusterSecret> LoadClusterSecret(const ClusterConfig& config,
                                        const std::string& cluster_file);

// The server's message on success. On failure the status's message names
// the server: "server 2 (10.0.0.12:7101) refused: <its reason> (EPERM)" or
// "... cannot be asked: ...". Not retried: a server refuses a request it
// already carried out.
Result<std::string> AdminCall(const ServerInfo& server, Op op, const std::vector<uint8_t>& request,
                              std::chrono::milliseconds timeout);

}  // namespace sealfs
