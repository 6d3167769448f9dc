// The metadata phases of sealfs-fsbench: create, stat, readdir and unlink of
// N files laid out in one or more directories, on a number of threads.
#pragma once

#include <cstdint>
#include <string>

#include "report.h"

namespace sealfs::bench {

struct MetaOptions {
  std::string root;          // a directory that does not exist yet; created and removed here
  uint64_t files = 0;        // spread evenly over the directories, contiguous by index
  int dirs = 1;              // directories under root holding the files
  int threads = 1;           // each thread works on a contiguous share of the files
  bool create_only = false;  // stop after create and leave the files in place
};

// Runs the phases and adds one measurement per phase to `report`. Returns ""
// or an error naming the path and the call that failed; on error, and after
// the unlink phase, everything under `root` is removed (unless create_only
// succeeded).
std::string RunMetaPhases(const MetaOptions& options, Report* report);

}  // namespace sealfs::bench
