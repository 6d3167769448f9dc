// The data phases of sealfs-fsbench: sequential write then read of one file
// in fixed blocks, then random reads of small blocks over it. Every 4 KiB
// page of the file carries its own offset, so reads check what they got.
#pragma once

#include <cstdint>
#include <string>

#include "report.h"

namespace sealfs::bench {

inline constexpr uint64_t kPageSize = 4096;

struct DataOptions {
  std::string path;                   // the file; created here and removed at the end
  uint64_t size = 0;                  // a multiple of kPageSize
  uint64_t block = 0;                 // sequential block, a multiple of kPageSize
  uint64_t random_reads = 0;          // how many random reads
  uint64_t random_block = kPageSize;  // a multiple of kPageSize, at most size
  bool drop_system_caches = false;    // also write 3 to /proc/sys/vm/drop_caches (root)
  uint64_t seed = 1;
};

// Runs the phases and adds their measurements to `report`. The page cache is
// dropped before each read phase: always for the file (posix_fadvise), and
// for the whole system when asked. Returns "" or an error naming the file.
std::string RunDataPhases(const DataOptions& options, Report* report);

}  // namespace sealfs::bench
