// Assertions on system calls that fail by returning -1 and setting errno:
//   EXPECT_OK(::mkdir(p, 0755));          // passes if the call did not return -1
//   EXPECT_ERRNO(ENOENT, ::stat(p, &st));  // passes if it returned -1 with errno ENOENT
#pragma once

#include <gtest/gtest.h>

namespace sealfs::it {

// Both read errno right after `result` was computed by the call in the argument list.
::testing::AssertionResult SyscallSucceeded(long result, const char* call);
::testing::AssertionResult SyscallFailedWith(int expected_errno, long result, const char* call);

}  // namespace sealfs::it

#define EXPECT_OK(call) EXPECT_TRUE(::sealfs::it::SyscallSucceeded((call), #call))
#define ASSERT_OK(call) ASSERT_TRUE(::sealfs::it::SyscallSucceeded((call), #call))
#define EXPECT_ERRNO(err, call) EXPECT_TRUE(::sealfs::it::SyscallFailedWith((err), (call), #call))
#define ASSERT_ERRNO(err, call) ASSERT_TRUE(::sealfs::it::SyscallFailedWith((err), (call), #call))
