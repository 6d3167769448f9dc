// `sealfs-loader apply`: checks a cluster file against the running cluster,
// gives it the next membership version, signs it with the cluster secret and
// publishes it to every server (docs/operations.md, "Changing the
// membership").
#pragma once

#include <chrono>
#include <ostream>
#include <string>

namespace sealfs {

struct ApplyOptions {
  std::string cluster_file;
  std::chrono::milliseconds timeout{3000};
  bool wait = true;  // wait for the chunk migration, showing its progress
  bool tty = false;  // redraw the progress bar in place
};

// Returns the process exit status: 0 when every server acts on the new
// membership (and, with `wait`, every chunk it moves has moved), 1 when the change was refused
// (nothing changed) or not every server took it (then `apply` again finishes it). Reports go to
// `out` and errors to `err`.
int RunApply(const ApplyOptions& options, std::ostream& out, std::ostream& err);

}  // namespace sealfs
