#include "janitor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

#include "mount_table.h"
#include "temp_dir.h"

namespace sealfs::it {
namespace {

// Runs a command synchronously; used by the Janitor only, which has no Subprocess
// machinery of its own (that would report back to the Janitor).
void RunQuietly(const char* const argv[]) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execv(argv[0], const_cast<char* const*>(argv));
    ::_exit(127);
  }
  if (pid > 0) ::waitpid(pid, nullptr, 0);
}

void Unmount(const std::string& mountpoint) {
  if (!IsMountPoint(mountpoint)) return;
  const char* const fusermount[] = {"/usr/bin/fusermount3", "-u", mountpoint.c_str(), nullptr};
  RunQuietly(fusermount);
  if (!IsMountPoint(mountpoint)) return;
  const char* const umount[] = {"/usr/bin/umount", "-l", mountpoint.c_str(), nullptr};
  RunQuietly(umount);
}

// The Janitor process: collects registrations until the pipe closes, then cleans up.
[[noreturn]] void Serve(int read_fd) {
  std::map<pid_t, int> pidfds;  // a pidfd taken at registration survives pid reuse
  std::set<std::string> mounts;
  std::set<std::string> dirs;
  std::set<std::string> netns;
  std::string pending;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(read_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buf, static_cast<size_t>(n));
    size_t eol;
    while ((eol = pending.find('\n')) != std::string::npos) {
      const std::string line = pending.substr(0, eol);
      pending.erase(0, eol + 1);
      if (line.size() < 3) continue;
      const bool track = line[0] == '+';
      const std::string arg = line.substr(3);
      switch (line[1]) {
        case 'p': {
          const pid_t pid = std::stoi(arg);
          if (track) {
            const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
            if (fd >= 0) pidfds[pid] = fd;
          } else if (auto it = pidfds.find(pid); it != pidfds.end()) {
            ::close(it->second);
            pidfds.erase(it);
          }
          break;
        }
        case 'm':
          track ? (void)mounts.insert(arg) : (void)mounts.erase(arg);
          break;
        case 'd':
          track ? (void)dirs.insert(arg) : (void)dirs.erase(arg);
          break;
        case 'n':
          track ? (void)netns.insert(arg) : (void)netns.erase(arg);
          break;
      }
    }
  }
  // Unmount first (the daemons may still answer), then kill, then remove.
  for (const auto& m : mounts) Unmount(m);
  for (const auto& [pid, fd] : pidfds) ::syscall(SYS_pidfd_send_signal, fd, SIGKILL, nullptr, 0);
  if (!pidfds.empty()) ::usleep(200 * 1000);
  for (const auto& m : mounts) Unmount(m);
  for (const auto& d : dirs) RemoveTree(d);
  for (const auto& ns : netns) {
    const char* const del[] = {"/usr/sbin/ip", "netns", "del", ns.c_str(), nullptr};
    RunQuietly(del);
  }
  ::_exit(0);
}

}  // namespace

Janitor& Janitor::Get() {
  static Janitor janitor;
  return janitor;
}

Janitor::Janitor() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("Janitor: pipe2 failed");
  const pid_t middle = ::fork();
  if (middle < 0) throw std::runtime_error("Janitor: fork failed");
  if (middle == 0) {
    // Double fork: the Janitor is re-parented away from the test process, so a process
    // tree kill (ctest timeout) does not take it down together with the test.
    ::setsid();
    if (::fork() != 0) ::_exit(0);
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    if (::chdir("/") != 0) ::_exit(1);
    const int null_fd = ::open("/dev/null", O_RDWR);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(null_fd, STDOUT_FILENO);  // never hold ctest's output pipe open
    ::dup2(null_fd, STDERR_FILENO);
    ::dup2(fds[0], 3);
    ::close_range(4, ~0U, 0);
    Serve(3);
  }
  ::waitpid(middle, nullptr, 0);
  ::close(fds[0]);
  pipe_fd_ = fds[1];
}

void Janitor::Send(char op, char kind, std::string_view arg) {
  // One write per line; lines are shorter than PIPE_BUF, so writes from threads never mix.
  std::string line{op, kind, ' '};
  line.append(arg);
  line.push_back('\n');
  [[maybe_unused]] const ssize_t n = ::write(pipe_fd_, line.data(), line.size());
}

void Janitor::TrackPid(pid_t pid) { Send('+', 'p', std::to_string(pid)); }
void Janitor::ForgetPid(pid_t pid) { Send('-', 'p', std::to_string(pid)); }
void Janitor::TrackMount(const std::filesystem::path& m) { Send('+', 'm', m.string()); }
void Janitor::ForgetMount(const std::filesystem::path& m) { Send('-', 'm', m.string()); }
void Janitor::TrackDir(const std::filesystem::path& d) { Send('+', 'd', d.string()); }
void Janitor::ForgetDir(const std::filesystem::path& d) { Send('-', 'd', d.string()); }
void Janitor::TrackNetns(std::string_view name) { Send('+', 'n', name); }
void Janitor::ForgetNetns(std::string_view name) { Send('-', 'n', name); }

}  // namespace sealfs::it
