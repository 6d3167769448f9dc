// Starting a few threads at the same instant, for races, with a deadline for hangs.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

namespace sealfs::it {

// Runs body(thread index) on n threads released together. If they have not all finished
// within timeout (a deadlock or a hang) it records a test failure, still waits for them (the
// ctest timeout ends a real deadlock) and returns false.
template <typename Body>
bool RunThreads(int n, std::chrono::seconds timeout, Body body) {
  std::atomic<int> ready{0};
  std::vector<std::future<void>> done;
  for (int t = 0; t < n; ++t) {
    done.push_back(std::async(std::launch::async, [&, t] {
      ++ready;
      while (ready.load() < n) std::this_thread::yield();
      body(t);
    }));
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto& f : done) {
    if (f.wait_until(deadline) != std::future_status::ready) {
      ADD_FAILURE() << "threads still running after " << timeout.count() << " s";
      for (auto& g : done) g.wait();  // the ctest timeout ends a real deadlock
      return false;
    }
  }
  return true;
}

}  // namespace sealfs::it
