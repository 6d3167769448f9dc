#include "latency.h"

#include <algorithm>
#include <cmath>

namespace sealfs::bench {

double Latencies::PercentileUs(double q) {
  if (ns_.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(ns_.size())));
  size_t index = std::clamp<size_t>(rank, 1, ns_.size()) - 1;
  std::nth_element(ns_.begin(), ns_.begin() + static_cast<ptrdiff_t>(index), ns_.end());
  return static_cast<double>(ns_[index]) / 1000.0;
}

}  // namespace sealfs::bench
