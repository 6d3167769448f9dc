// One sealfs-mount client running in the foreground (-f) in the background of the test:
// mount and wait until the mount is live, unmount (fusermount3 -u, lazy umount -l as a last
// resort) and collect the daemon's exit status.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "subprocess.h"

namespace sealfs::it {

struct MountOptions {
  int timeout_ms = 3000;      // --timeout-ms
  double attr_timeout = 1.0;  // --attr-timeout (seconds)
  std::vector<std::string> extra_args;
};

class FuseMount {
 public:
  FuseMount(std::filesystem::path config, std::filesystem::path mountpoint,
            std::filesystem::path log, MountOptions options);
  // Unmounts (best effort) and reaps the daemon.
  ~FuseMount();
  FuseMount(const FuseMount&) = delete;
  FuseMount& operator=(const FuseMount&) = delete;

  // Starts sealfs-mount and waits until the mount point shows the new file system; throws
  // (with the log's tail) if the daemon exits or the mount does not appear within timeout.
  void Mount(std::chrono::milliseconds timeout = std::chrono::seconds(15));
  // Unmounts and waits for the daemon; returns its exit status (nullopt if not mounted).
  std::optional<ExitStatus> Unmount();
  void Remount();

  const std::filesystem::path& path() const { return mountpoint_; }
  const std::filesystem::path& log() const { return log_; }
  // The daemon's pid, or -1 when not running.
  pid_t daemon_pid() const { return daemon_ ? daemon_->pid() : -1; }

 private:
  std::vector<std::string> Argv() const;

  std::filesystem::path config_;
  std::filesystem::path mountpoint_;
  std::filesystem::path log_;
  MountOptions options_;
  std::unique_ptr<Subprocess> daemon_;
};

}  // namespace sealfs::it
