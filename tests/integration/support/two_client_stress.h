// The randomized two-client coherence check: mount `a` makes changes (create
// or rewrite, unlink, rename maybe over another file, chmod, write in place),
// and after each one returns, mount `b` stats the names it touched and seven
// others, each of which must show exactly the state the changes left (a model
// kept here). Used with every cache and path between the two: the --bpf
// cache, the UDP fast path, XDP.
#pragma once

#include <cstdint>
#include <filesystem>

namespace sealfs::it {

struct StressOptions {
  long operations = 100000;  // changes and checked stats together
  uint64_t seed = 20261122;
};

// Fails the running test (gtest) at the first stale or missing answer, or a
// change that fails; returns the operations done.
long RunTwoClientStress(const std::filesystem::path& a, const std::filesystem::path& b,
                        StressOptions options = {});

// SEALFS_STRESS_OPS if set (to shorten runs by hand), else `otherwise`.
long StressOperations(long otherwise = 100000);

}  // namespace sealfs::it
