// Entry point of sealfs_integration_tests.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "fs_test.h"
#include "janitor.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Start the Janitor while the process is still single-threaded.
  sealfs::it::Janitor::Get();
  ::umask(022);
  sealfs::it::RegisterSharedFsEnvironment();
  return RUN_ALL_TESTS();
}
