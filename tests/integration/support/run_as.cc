#include "run_as.h"

#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <stdexcept>

namespace sealfs::it {

int RunAs(uid_t uid, gid_t gid, const std::function<int()>& op) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 ||
        ::setresuid(uid, uid, uid) != 0) {
      std::perror("RunAs: switching ids");
      ::_exit(255);
    }
    ::_exit(op() & 0xff);
  }
  int wstatus = 0;
  if (::waitpid(pid, &wstatus, 0) != pid) throw std::runtime_error("waitpid failed");
  if (!WIFEXITED(wstatus)) throw std::runtime_error("RunAs child died by a signal");
  return WEXITSTATUS(wstatus);
}

}  // namespace sealfs::it
