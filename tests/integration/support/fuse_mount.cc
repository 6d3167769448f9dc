#include "fuse_mount.h"

#include <sys/stat.h>

#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "binaries.h"
#include "janitor.h"
#include "log_tail.h"
#include "mount_table.h"
#include "poll_until.h"

namespace sealfs::it {
namespace {

bool OnDifferentDevice(const std::filesystem::path& mnt) {
  struct stat inner {
  }, parent{};
  return ::stat(mnt.c_str(), &inner) == 0 && ::stat(mnt.parent_path().c_str(), &parent) == 0 &&
         inner.st_dev != parent.st_dev;
}

// fusermount3 -u, retried while the mount is busy; lazy umount -l as the last resort.
// Returns false if only the lazy unmount worked (something still holds the mount).
bool Detach(const std::filesystem::path& mnt) {
  CommandResult last;
  for (int attempt = 0; attempt < 20 && IsMountPoint(mnt); ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    last = RunCommand({"/usr/bin/fusermount3", "-u", mnt.string()}, std::chrono::seconds(10));
  }
  if (!IsMountPoint(mnt)) return true;
  std::fprintf(stderr, "fusermount3 -u %s kept failing (%s); falling back to umount -l\n",
               mnt.c_str(), last.output.c_str());
  RunCommand({"/usr/bin/umount", "-l", mnt.string()}, std::chrono::seconds(10));
  return false;
}

}  // namespace

FuseMount::FuseMount(std::filesystem::path config, std::filesystem::path mountpoint,
                     std::filesystem::path log, MountOptions options)
    : config_(std::move(config)),
      mountpoint_(std::move(mountpoint)),
      log_(std::move(log)),
      options_(std::move(options)) {}

FuseMount::~FuseMount() {
  try {
    Unmount();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "unmounting %s: %s\n", mountpoint_.c_str(), e.what());
  }
}

std::vector<std::string> FuseMount::Argv() const {
  std::ostringstream attr_timeout;
  attr_timeout << options_.attr_timeout;
  std::vector<std::string> argv = {BinaryPath("sealfs-mount").string(),
                                   "--config",
                                   config_.string(),
                                   mountpoint_.string(),
                                   "-f",
                                   "--timeout-ms",
                                   std::to_string(options_.timeout_ms),
                                   "--attr-timeout",
                                   attr_timeout.str()};
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  const auto from_env = ExtraMountArgs();
  argv.insert(argv.end(), from_env.begin(), from_env.end());
  return argv;
}

void FuseMount::Mount(std::chrono::milliseconds timeout) {
  if (daemon_ && daemon_->Running()) throw std::logic_error("already mounted");
  std::filesystem::create_directories(mountpoint_);
  Janitor::Get().TrackMount(mountpoint_);
  daemon_ = std::make_unique<Subprocess>(Argv(), log_);
  // Watch the mount table first: stat() on a half-started FUSE mount could block.
  const bool mounted =
      PollUntil([&] { return !daemon_->Running() || IsMountPoint(mountpoint_); }, timeout);
  if (!daemon_->Running()) {
    throw std::runtime_error("sealfs-mount exited with status " +
                             std::to_string(*daemon_->exit_status()) + " while mounting " +
                             mountpoint_.string() + "\n" + LogTail(log_, 50));
  }
  if (!mounted || !OnDifferentDevice(mountpoint_)) {
    throw std::runtime_error("sealfs-mount: " + mountpoint_.string() + " not mounted after " +
                             std::to_string(timeout.count()) + " ms\n" + LogTail(log_, 50));
  }
}

std::optional<ExitStatus> FuseMount::Unmount() {
  if (!daemon_) return std::nullopt;
  const bool clean = Detach(mountpoint_);
  if (!IsMountPoint(mountpoint_)) Janitor::Get().ForgetMount(mountpoint_);
  // After a lazy unmount the daemon serves the remaining open files; don't wait for them.
  const auto grace = clean ? std::chrono::seconds(10) : std::chrono::seconds(1);
  auto status = daemon_->Wait(grace);
  if (!status) {
    std::fprintf(stderr, "sealfs-mount for %s still running %lld s after unmount: killing it\n",
                 mountpoint_.c_str(), static_cast<long long>(grace.count()));
    status = daemon_->Kill();
  }
  daemon_.reset();
  return status;
}

void FuseMount::Remount() {
  Unmount();
  Mount();
}

}  // namespace sealfs::it
