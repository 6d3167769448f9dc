#include "meta_phases.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "parallel.h"
#include "sys_error.h"

namespace sealfs::bench {

namespace {

// The directories of one layout, held open so that every operation names its
// file relative to a directory descriptor: on a mount without an entry cache,
// a full path would cost one extra lookup per component.
class Layout {
 public:
  explicit Layout(const MetaOptions& o) : o_(o) {}
  ~Layout() {
    for (int fd : fds_) close(fd);
  }
  Layout(const Layout&) = delete;
  Layout& operator=(const Layout&) = delete;

  std::string Create() {
    if (mkdir(o_.root.c_str(), 0755) != 0) return SysError("mkdir", o_.root);
    for (int d = 0; d < o_.dirs; ++d) {
      std::string path = DirPath(d);
      if (mkdir(path.c_str(), 0755) != 0) return SysError("mkdir", path);
      int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) return SysError("open", path);
      fds_.push_back(fd);
    }
    return "";
  }

  // Removes the directories, which must be empty.
  std::string Remove() {
    for (int fd : fds_) close(fd);
    fds_.clear();
    for (int d = 0; d < o_.dirs; ++d) {
      std::string path = DirPath(d);
      if (rmdir(path.c_str()) != 0) return SysError("rmdir", path);
    }
    if (rmdir(o_.root.c_str()) != 0) return SysError("rmdir", o_.root);
    return "";
  }

  // File i lives in directory i * dirs / files, so a thread's contiguous
  // share of the files touches its own few directories.
  int DirOf(uint64_t i) const {
    return static_cast<int>(i * static_cast<uint64_t>(o_.dirs) / o_.files);
  }
  int DirFd(uint64_t i) const { return fds_[static_cast<size_t>(DirOf(i))]; }
  int DirFdAt(int d) const { return fds_[static_cast<size_t>(d)]; }
  static std::string FileName(uint64_t i) { return fmt::format("f{:07}", i); }
  std::string FilePath(uint64_t i) const { return DirPath(DirOf(i)) + "/" + FileName(i); }
  std::string DirPath(int d) const { return fmt::format("{}/d{:04}", o_.root, d); }
  // How many files directory d holds: the inverse of DirOf, whose first
  // file is ceil(d * files / dirs).
  uint64_t FilesIn(int d) const { return FirstFileOf(d + 1) - FirstFileOf(d); }

 private:
  uint64_t FirstFileOf(int d) const {
    uint64_t dirs = static_cast<uint64_t>(o_.dirs);
    return (static_cast<uint64_t>(d) * o_.files + dirs - 1) / dirs;
  }

  const MetaOptions& o_;
  std::vector<int> fds_;
};

// Runs `op(i)` for every file, sharing the files out over the threads.
PhaseResult ForEachFile(const MetaOptions& o, const std::function<std::string(uint64_t)>& op) {
  return RunParallel(o.threads, [&](int t, Latencies& lat) -> std::string {
    Slice s = SliceOf(o.files, o.threads, t);
    lat.Reserve(s.end - s.begin);
    for (uint64_t i = s.begin; i < s.end; ++i) {
      std::string err = Timed(lat, [&] { return op(i); });
      if (!err.empty()) return err;
    }
    return "";
  });
}

// Lists directory d and checks it holds the expected files; returns the
// number of entries through `count`.
std::string ListDirectory(const Layout& layout, int d, uint64_t* count) {
  int fd = openat(layout.DirFdAt(d), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return SysError("open", layout.DirPath(d));
  DIR* dir = fdopendir(fd);
  if (!dir) {
    close(fd);
    return SysError("fdopendir", layout.DirPath(d));
  }
  uint64_t n = 0;
  errno = 0;
  while (dirent* e = readdir(dir)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) ++n;
  }
  std::string err = errno != 0 ? SysError("readdir", layout.DirPath(d)) : "";
  closedir(dir);
  if (err.empty() && n != layout.FilesIn(d))
    err =
        fmt::format("readdir {}: {} entries, expected {}", layout.DirPath(d), n, layout.FilesIn(d));
  *count = n;
  return err;
}

Measurement ToMeasurement(const std::string& phase, const MetaOptions& o, uint64_t ops,
                          PhaseResult& r) {
  return Measurement{.phase = phase,
                     .layout = fmt::format("{}dir{}", o.dirs, o.dirs == 1 ? "" : "s"),
                     .threads = o.threads,
                     .ops = ops,
                     .seconds = r.seconds,
                     .p50_us = r.latencies.PercentileUs(0.50),
                     .p99_us = r.latencies.PercentileUs(0.99)};
}

std::string RunPhases(const MetaOptions& o, Layout& layout, Report* report) {
  PhaseResult create = ForEachFile(o, [&](uint64_t i) -> std::string {
    int fd = openat(layout.DirFd(i), Layout::FileName(i).c_str(),
                    O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) return SysError("create", layout.FilePath(i));
    if (close(fd) != 0) return SysError("close", layout.FilePath(i));
    return "";
  });
  if (!create.error.empty()) return create.error;
  report->Add(ToMeasurement("create", o, o.files, create));
  if (o.create_only) return "";

  PhaseResult stats = ForEachFile(o, [&](uint64_t i) -> std::string {
    struct stat st;
    if (fstatat(layout.DirFd(i), Layout::FileName(i).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return SysError("stat", layout.FilePath(i));
    if (!S_ISREG(st.st_mode)) return fmt::format("stat {}: not a regular file", layout.FilePath(i));
    return "";
  });
  if (!stats.error.empty()) return stats.error;
  report->Add(ToMeasurement("stat", o, o.files, stats));

  // Directories are shared out over the threads; ops are entries listed,
  // latency is per whole listing.
  int list_threads = std::min(o.threads, o.dirs);
  std::vector<uint64_t> listed(static_cast<size_t>(list_threads), 0);
  PhaseResult list = RunParallel(list_threads, [&](int t, Latencies& lat) -> std::string {
    Slice s = SliceOf(static_cast<uint64_t>(o.dirs), list_threads, t);
    for (uint64_t d = s.begin; d < s.end; ++d) {
      uint64_t n = 0;
      std::string err = Timed(lat, [&] { return ListDirectory(layout, static_cast<int>(d), &n); });
      if (!err.empty()) return err;
      listed[static_cast<size_t>(t)] += n;
    }
    return "";
  });
  if (!list.error.empty()) return list.error;
  uint64_t entries = 0;
  for (uint64_t n : listed) entries += n;
  // Recorded under the run's thread count, which names the run; the one
  // directory layout is listed by a single thread.
  report->Add(ToMeasurement("readdir", o, entries, list));

  PhaseResult unlinks = ForEachFile(o, [&](uint64_t i) -> std::string {
    if (unlinkat(layout.DirFd(i), Layout::FileName(i).c_str(), 0) != 0)
      return SysError("unlink", layout.FilePath(i));
    return "";
  });
  if (!unlinks.error.empty()) return unlinks.error;
  report->Add(ToMeasurement("unlink", o, o.files, unlinks));
  return layout.Remove();
}

}  // namespace

std::string RunMetaPhases(const MetaOptions& o, Report* report) {
  if (o.files == 0 || o.dirs < 1 || o.threads < 1) return "metadata phases: nothing to do";
  std::string err;
  {
    Layout layout(o);
    err = layout.Create();
    if (err.empty()) err = RunPhases(o, layout, report);
  }
  if (!err.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(o.root, ec);
    if (ec) err += fmt::format(" (and cleaning up {} failed: {})", o.root, ec.message());
  }
  return err;
}

}  // namespace sealfs::bench
