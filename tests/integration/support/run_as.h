// Running a piece of a test as an unprivileged user, for permission checks.
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <functional>

namespace sealfs::it {

inline constexpr uid_t kTestUid = 4321;
inline constexpr gid_t kTestGid = 4321;

// Runs op in a forked child whose real, effective, saved and file-system ids are uid/gid
// (no supplementary groups). op returns 0 on success or an errno value; RunAs returns
// what op returned (or 255 + a message on stderr if the child could not switch ids).
// op must only make system calls: the child exits without running destructors.
int RunAs(uid_t uid, gid_t gid, const std::function<int()>& op);

// Convenience for op: 0 if result != -1, else errno.
inline int ErrnoOf(long result) { return result == -1 ? errno : 0; }

}  // namespace sealfs::it
