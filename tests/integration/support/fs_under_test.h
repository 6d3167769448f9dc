// The file system a POSIX-semantics test runs on: normally a fresh LocalCluster with one
// mount; with SEALFS_TEST_LOCAL_DIR=<dir> a temp dir below <dir> on the host's own file
// system instead, to check the tests themselves against a reference implementation.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "local_cluster.h"
#include "temp_dir.h"

namespace sealfs::it {

class FsUnderTest {
 public:
  // True when SEALFS_TEST_LOCAL_DIR is set.
  static bool LocalMode();

  explicit FsUnderTest(ClusterOptions cluster_options = {}, MountOptions mount_options = {});

  // The root every test works below: the mount point, or the local temp dir.
  const std::filesystem::path& root() const;
  // nullptr in local mode.
  LocalCluster* cluster() { return cluster_.get(); }
  // Drops all client-side state (page cache, attribute cache, open handles) by unmounting
  // and mounting again; nothing to drop in local mode.
  void Remount();
  // Log tails of the cluster, or "" in local mode.
  std::string LogTails() const;

 private:
  std::optional<TempDir> local_dir_;
  std::unique_ptr<LocalCluster> cluster_;
  FuseMount* mount_ = nullptr;
};

}  // namespace sealfs::it
