// `sealfs-loader migration pause|resume|rate`: ADMIN_MIGRATION to every
// server, signed with the cluster secret. It governs only the background
// pulls: a chunk a client reads or writes is pulled at once regardless.
#pragma once

#include <chrono>
#include <optional>
#include <ostream>
#include <string>

namespace sealfs {

struct MigrationControlOptions {
  std::string cluster_file;
  std::optional<bool> paused;      // unset: as each server has it
  std::optional<double> rate_mib;  // MiB/s; 0: no limit; unset: as each server has it
  std::chrono::milliseconds timeout{3000};
};

// Returns the exit status: 0 when every server took the setting, 1 when one
// refused or could not be asked, 2 for a bad cluster file or secret.
int RunMigrationControl(const MigrationControlOptions& options, std::ostream& out,
                        std::ostream& err);

}  // namespace sealfs
