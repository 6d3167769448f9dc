// Death-safe teardown. The Janitor is a detached helper process that learns, over a pipe,
// which child processes, FUSE mounts, temporary directories and network namespaces the test
// process owns. When the pipe closes with entries still registered (the test process
// crashed, was killed by a ctest timeout, or skipped its own teardown), it unmounts those
// mounts, kills those processes, removes those directories and deletes those namespaces. Normal
// RAII teardown forgets each entry after undoing it, so in a healthy run the Janitor has nothing to
// do.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string_view>

namespace sealfs::it {

class Janitor {
 public:
  // The process-wide Janitor. Call it once from main() before any thread is started.
  static Janitor& Get();

  void TrackPid(pid_t pid);
  void ForgetPid(pid_t pid);
  void TrackMount(const std::filesystem::path& mountpoint);
  void ForgetMount(const std::filesystem::path& mountpoint);
  void TrackDir(const std::filesystem::path& dir);
  void ForgetDir(const std::filesystem::path& dir);
  // A network namespace made with `ip netns add`.
  void TrackNetns(std::string_view name);
  void ForgetNetns(std::string_view name);

 private:
  Janitor();
  void Send(char op, char kind, std::string_view arg);

  int pipe_fd_ = -1;
};

}  // namespace sealfs::it
