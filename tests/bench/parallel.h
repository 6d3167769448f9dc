// RunParallel: runs one benchmark phase on N threads that start together.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "latency.h"

namespace sealfs::bench {

struct PhaseResult {
  double seconds = 0;   // from the common start to the end of the slowest thread
  Latencies latencies;  // every thread's samples, merged
  std::string error;    // the first error a thread returned; empty on success
};

// `work(thread_index, latencies)` does thread `thread_index`'s share of the
// phase, records each operation's latency, and returns "" or an error
// message. A thread that fails stops; the others finish their share.
PhaseResult RunParallel(int threads, const std::function<std::string(int, Latencies&)>& work);

// The half-open range [begin, end) of `total` items that thread `index` of
// `threads` handles: contiguous, sizes differing by at most one.
struct Slice {
  uint64_t begin;
  uint64_t end;
};
Slice SliceOf(uint64_t total, int threads, int index);

}  // namespace sealfs::bench
