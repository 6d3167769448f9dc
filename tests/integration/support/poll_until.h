// Polling a condition with a deadline.
#pragma once

#include <chrono>
#include <thread>

namespace sealfs::it {

// Calls done() until it returns true or timeout passes; returns done()'s last answer.
template <typename Predicate>
bool PollUntil(Predicate done, std::chrono::milliseconds timeout,
               std::chrono::milliseconds interval = std::chrono::milliseconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(interval);
  }
  return true;
}

}  // namespace sealfs::it
