#include "syscall_assertions.h"

#include <cerrno>
#include <cstring>

namespace sealfs::it {
namespace {

std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return std::string(name != nullptr ? name : "?") + " (" + std::strerror(err) + ")";
}

}  // namespace

::testing::AssertionResult SyscallSucceeded(long result, const char* call) {
  const int err = errno;
  if (result != -1) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << call << " failed with " << ErrnoName(err);
}

::testing::AssertionResult SyscallFailedWith(int expected_errno, long result, const char* call) {
  const int err = errno;
  if (result == -1 && err == expected_errno) return ::testing::AssertionSuccess();
  if (result != -1) {
    return ::testing::AssertionFailure() << call << " succeeded (returned " << result
                                         << "), expected " << ErrnoName(expected_errno);
  }
  return ::testing::AssertionFailure()
         << call << " failed with " << ErrnoName(err) << ", expected " << ErrnoName(expected_errno);
}

}  // namespace sealfs::it
