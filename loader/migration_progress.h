// MigrationProgress: waits for the chunk migration a membership change
// started to finish, drawing a progress bar (bytes and chunks moved, rate,
// estimate) from what the servers report (MEMBERSHIP_GET).
#pragma once

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include "cluster_config.h"
#include "member_survey.h"

namespace sealfs {

struct MigrationTotals {
  uint64_t outgoing_chunks = 0, outgoing_bytes = 0;  // still to move
  uint64_t pulled_bytes = 0;                         // pulled since each server started
  int migrating = 0;                                 // servers still pulling
  int unreachable = 0;
};
MigrationTotals SumMigration(const std::vector<MemberReport>& reports);

// "[#####-----]  50%  1.0 MiB of 2.0 MiB moved, 16 chunks left, 1 servers
// pulling, 0.5 MiB/s, ETA 2 s": `moved` bytes so far, at `rate` bytes/s.
std::string ProgressLine(const MigrationTotals& totals, uint64_t moved, double rate);

// Polls `servers` until none moves chunks or metadata any more. What the
// `leaving` servers still hold counts in the bar, but one of them that does
// not answer holds nothing up (the others pull from it while it holds
// anything). `tty`: redraw one line; otherwise print a line every few
// seconds. Returns false if it gave up because no server answered for
// minutes.
bool WaitForMigration(const std::vector<ServerInfo>& servers,
                      const std::vector<ServerInfo>& leaving, std::chrono::milliseconds timeout,
                      bool tty, std::ostream& out);

}  // namespace sealfs
