#include "parallel.h"

#include <latch>
#include <mutex>
#include <thread>
#include <vector>

namespace sealfs::bench {

PhaseResult RunParallel(int threads, const std::function<std::string(int, Latencies&)>& work) {
  std::vector<Latencies> per_thread(static_cast<size_t>(threads));
  std::vector<std::string> errors(static_cast<size_t>(threads));
  std::latch ready(threads + 1);
  std::latch go(1);
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      ready.count_down();
      go.wait();
      errors[static_cast<size_t>(t)] = work(t, per_thread[static_cast<size_t>(t)]);
    });
  }
  ready.arrive_and_wait();
  Clock::time_point start = Clock::now();
  go.count_down();
  for (std::thread& th : pool) th.join();

  PhaseResult result;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (const Latencies& l : per_thread) result.latencies.Merge(l);
  for (const std::string& e : errors) {
    if (!e.empty()) {
      result.error = e;
      break;
    }
  }
  return result;
}

Slice SliceOf(uint64_t total, int threads, int index) {
  uint64_t n = static_cast<uint64_t>(threads);
  uint64_t i = static_cast<uint64_t>(index);
  return {total * i / n, total * (i + 1) / n};
}

}  // namespace sealfs::bench
