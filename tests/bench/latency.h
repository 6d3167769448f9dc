// Latency samples and their summary, shared by the benchmark tools.
//
// Each worker thread records into its own Latencies (no locking on the hot
// path); the runner merges them once the phase is over.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

namespace sealfs::bench {

using Clock = std::chrono::steady_clock;

class Latencies {
 public:
  void Reserve(size_t n) { ns_.reserve(n); }
  void Add(Clock::duration d) {
    ns_.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
  }
  void Merge(const Latencies& other) { ns_.insert(ns_.end(), other.ns_.begin(), other.ns_.end()); }
  size_t count() const { return ns_.size(); }

  // The q-quantile (0 < q <= 1) in microseconds by the nearest-rank rule;
  // 0 when there are no samples. Reorders the samples.
  double PercentileUs(double q);

 private:
  std::vector<int64_t> ns_;
};

// Times one call of `fn` into `lat` and returns what it returned.
template <class Fn>
auto Timed(Latencies& lat, Fn&& fn) {
  Clock::time_point start = Clock::now();
  auto result = fn();
  lat.Add(Clock::now() - start);
  return result;
}

}  // namespace sealfs::bench
