// `sealfs-loader status`: every server of the cluster, the membership
// version it acts on, whether it answers, its space, inodes and chunks.
#pragma once

#include <chrono>
#include <ostream>
#include <string>

namespace sealfs {

struct StatusOptions {
  std::string cluster_file;
  bool json = false;
  std::chrono::milliseconds timeout{3000};
};

// Returns the exit status: 0 when every server answers and all act on the
// same membership version, 1 otherwise, 2 for a bad cluster file.
int RunStatus(const StatusOptions& options, std::ostream& out, std::ostream& err);

}  // namespace sealfs
