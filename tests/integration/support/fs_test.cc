#include "fs_test.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <optional>
#include <stdexcept>

namespace sealfs::it {
namespace {

constexpr std::string_view kLocalModeSkip =
    "needs a sealfs cluster; SEALFS_TEST_LOCAL_DIR is set, so the tests run on a local directory";

// The FsUnderTest shared by all PosixTests of this process, created on first use.
struct SharedFs {
  std::unique_ptr<FsUnderTest> fs;
  std::optional<std::string> creation_error;  // a failed start is not retried by every test
};

SharedFs& Shared() {
  static SharedFs shared;
  return shared;
}

class SharedFsEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { Shared().fs.reset(); }
};

}  // namespace

std::string CurrentTestFileName() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->test_suite_name()) + "." + info->name();
  std::replace(name.begin(), name.end(), '/', '_');
  return name;
}

void RegisterSharedFsEnvironment() { ::testing::AddGlobalTestEnvironment(new SharedFsEnvironment); }

FsUnderTest& PosixTest::fs() {
  auto& shared = Shared();
  if (shared.creation_error) throw std::runtime_error(*shared.creation_error);
  if (!shared.fs) {
    try {
      // Small chunks, so every I/O test crosses chunk boundaries.
      shared.fs = std::make_unique<FsUnderTest>(ClusterOptions{.chunk_size = kSmallChunkSize});
    } catch (const std::exception& e) {
      shared.creation_error =
          std::string("starting the file system under test failed: ") + e.what();
      throw std::runtime_error(*shared.creation_error);
    }
  }
  return *shared.fs;
}

void PosixTest::SetUp() {
  dir_ = fs().root() / CurrentTestFileName();
  if (::mkdir(dir_.c_str(), 0755) != 0) {
    throw std::runtime_error("mkdir " + dir_.string() + ": " + std::strerror(errno));
  }
}

void PosixTest::TearDown() {
  if (HasFailure() && Shared().fs) std::cerr << Shared().fs->LogTails();
}

void ClusterTest::SetUp() {
  if (FsUnderTest::LocalMode()) GTEST_SKIP() << kLocalModeSkip;
}

void ClusterTest::TearDown() {
  if (HasFailure() && cluster_) std::cerr << cluster_->LogTails();
  cluster_.reset();
}

LocalCluster& ClusterTest::StartCluster(ClusterOptions options) {
  cluster_ = std::make_unique<LocalCluster>(std::move(options));
  return *cluster_;
}

}  // namespace sealfs::it
