// GoogleTest fixtures.
//  - PosixTest: POSIX-semantics tests. They share one FsUnderTest per test process (under
//    ctest every test is its own process, so every test gets a fresh cluster) and each test
//    works in its own empty directory dir().
//  - ClusterTest: tests that need a cluster of their own (restarts, kills, fsck, several
//    mounts, raw traffic to a server). Skipped in local mode.
// Both print the cluster's log tails when the test failed.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "fs_under_test.h"
#include "local_cluster.h"

namespace sealfs::it {

class PosixTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A fresh empty directory on the file system under test.
  const std::filesystem::path& dir() const { return dir_; }
  // dir() / name.
  std::filesystem::path P(std::string_view name) const { return dir_ / name; }
  static FsUnderTest& fs();

 private:
  std::filesystem::path dir_;
};

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Starts this test's cluster.
  LocalCluster& StartCluster(ClusterOptions options = {});
  LocalCluster& cluster() { return *cluster_; }

 private:
  std::unique_ptr<LocalCluster> cluster_;
};

// Registers the global environment that tears the shared FsUnderTest down at exit.
void RegisterSharedFsEnvironment();

// "<Suite>.<Test>" of the running test, usable as a file name.
std::string CurrentTestFileName();

}  // namespace sealfs::it
