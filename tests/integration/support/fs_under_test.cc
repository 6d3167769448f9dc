#include "fs_under_test.h"

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace sealfs::it {
namespace {

const char* LocalDirEnv() {
  const char* dir = std::getenv("SEALFS_TEST_LOCAL_DIR");
  return dir != nullptr && *dir != '\0' ? dir : nullptr;
}

}  // namespace

bool FsUnderTest::LocalMode() { return LocalDirEnv() != nullptr; }

FsUnderTest::FsUnderTest(ClusterOptions cluster_options, MountOptions mount_options) {
  if (LocalMode()) {
    local_dir_.emplace(LocalDirEnv());
    return;
  }
  cluster_ = std::make_unique<LocalCluster>(std::move(cluster_options));
  try {
    mount_ = &cluster_->AddMount(std::move(mount_options));
  } catch (const std::exception& e) {
    // The cluster (and its logs) go away with this constructor: keep the logs in the error.
    throw std::runtime_error(std::string(e.what()) + cluster_->LogTails());
  }
}

const std::filesystem::path& FsUnderTest::root() const {
  return local_dir_ ? local_dir_->path() : mount_->path();
}

void FsUnderTest::Remount() {
  if (mount_ != nullptr) mount_->Remount();
}

std::string FsUnderTest::LogTails() const { return cluster_ ? cluster_->LogTails() : ""; }

}  // namespace sealfs::it
