#include "fs_under_test.h"

#include <cstdlib>

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
  mount_ = &cluster_->AddMount(std::move(mount_options));
}

const std::filesystem::path& FsUnderTest::root() const {
  return local_dir_ ? local_dir_->path() : mount_->path();
}

void FsUnderTest::Remount() {
  if (mount_ != nullptr) mount_->Remount();
}

std::string FsUnderTest::LogTails() const { return cluster_ ? cluster_->LogTails() : ""; }

}  // namespace sealfs::it
