// Durability and crash consistency: a full cluster restart (SIGTERM or kill -9) keeps every
// acknowledged change, and killing each server in turn in the middle of a namespace
// workload leaves a namespace that sealfs-fsck accepts.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "file_util.h"
#include "fs_test.h"
#include "link_counts.h"
#include "syscall_assertions.h"
#include "tree_snapshot.h"

namespace sealfs::it {
namespace {

// A tree with every kind of state the servers keep. Steps fail non-fatally, so a broken
// operation does not keep the rest of the state from being checked across the restart.
void Populate(const std::filesystem::path& root) {
  std::mt19937_64 rng(7);
  EXPECT_OK(::mkdir(root.c_str(), 0755));
  for (int d = 0; d < 6; ++d) {
    const auto dir = root / ("dir" + std::to_string(d));
    EXPECT_OK(::mkdir(dir.c_str(), 0750 + d));
    for (int f = 0; f < 5; ++f) {
      WriteFile(dir / ("file" + std::to_string(f)), RandomBytes(rng, 1 + rng() % 300000));
    }
    EXPECT_OK(::mkdir((dir / "sub").c_str(), 0700));
  }
  WriteFile(root / "empty", "");
  {
    auto fd = Open(root / "sparse", O_WRONLY | O_CREAT);
    PwriteFull(fd.get(), "far", off_t{20} << 20);
  }
  EXPECT_OK(::symlink("dir0/file0", (root / "symlink").c_str()));
  EXPECT_OK(::link((root / "dir1/file1").c_str(), (root / "hardlink").c_str()));
  EXPECT_OK(::mkfifo((root / "fifo").c_str(), 0600));
  EXPECT_OK(::setxattr((root / "dir2/file2").c_str(), "user.k", "v", 1, 0));
  EXPECT_OK(::setxattr((root / "dir3").c_str(), "user.dir", "attr", 4, 0));
  EXPECT_OK(::chmod((root / "dir4/file4").c_str(), 04711));
  EXPECT_OK(::chown((root / "dir4/file3").c_str(), 1234, 5678));
  const timespec times[2] = {{1234567890, 111}, {1234567890, 222}};
  EXPECT_OK(::utimensat(AT_FDCWD, (root / "dir5/file0").c_str(), times, 0));
  // Changes that must stay undone.
  EXPECT_OK(::rename((root / "dir0/file1").c_str(), (root / "dir5/renamed").c_str()));
  EXPECT_OK(::rename((root / "dir1/sub").c_str(), (root / "dir2/moved-sub").c_str()));
  EXPECT_OK(::unlink((root / "dir3/file3").c_str()));
  EXPECT_OK(::rmdir((root / "dir4/sub").c_str()));
  EXPECT_OK(::truncate((root / "dir5/file2").c_str(), 1000));
}

void ExpectFsckClean(LocalCluster& cluster) {
  const auto fsck = cluster.Fsck();
  EXPECT_FALSE(fsck.timed_out) << "sealfs-fsck timed out";
  EXPECT_EQ(fsck.status, 0) << "sealfs-fsck output:\n" << fsck.output;
}

// A stop that does not crash: a clean exit or death by the SIGTERM itself.
void ExpectOrderlyStop(ExitStatus status) {
  EXPECT_TRUE(status == 0 || status == 128 + SIGTERM) << "server exit status " << status;
}

class FullRestartTest : public ClusterTest, public ::testing::WithParamInterface<int> {};

TEST_P(FullRestartTest, KeepsEverythingThatWasAcknowledged) {
  const int stop_signal = GetParam();
  auto& cluster = StartCluster({.chunk_size = kSmallChunkSize});
  auto& mount = cluster.AddMount();
  const auto tree = mount.path() / "tree";
  Populate(tree);
  const auto before = SnapshotTree(tree);
  // Descriptors held across the restart: one on a file, one on a file unlinked while open.
  auto open_file = Open(mount.path() / "open-file", O_RDWR | O_CREAT);
  PwriteFull(open_file.get(), "before", 0);
  WriteFile(mount.path() / "unlinked", "kept while open");
  auto unlinked = Open(mount.path() / "unlinked", O_RDONLY);
  ASSERT_OK(::unlink((mount.path() / "unlinked").c_str()));

  for (int id = 1; id <= cluster.server_count(); ++id) {
    if (stop_signal == SIGKILL) {
      cluster.KillServer(id);
    } else {
      ExpectOrderlyStop(cluster.StopServer(id));
    }
  }
  cluster.StartAllServers();

  // The existing mount reconnects, with its open descriptors still working.
  EXPECT_EQ(DescribeDifferences(before, SnapshotTree(tree)), "") << "through the old mount";
  EXPECT_NO_THROW(PwriteFull(open_file.get(), "-after", 6));
  EXPECT_OK(::fsync(open_file.get()));
  EXPECT_NO_THROW(EXPECT_EQ(PreadFull(open_file.get(), 100, 0), "before-after"));
  EXPECT_NO_THROW(EXPECT_EQ(PreadFull(unlinked.get(), 100, 0), "kept while open"));
  open_file.reset();
  unlinked.reset();
  // A new mount reads everything from the servers.
  mount.Remount();
  EXPECT_EQ(DescribeDifferences(before, SnapshotTree(tree)), "") << "after remount";
  EXPECT_EQ(ReadFile(mount.path() / "open-file"), "before-after");
  const auto names = ListDir(mount.path());
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()),
            (std::set<std::string>{"open-file", "tree"}))
      << "the file unlinked while open must be gone once closed";
  // And the file system still takes changes.
  WriteFile(tree / "after-restart", "ok");
  EXPECT_EQ(ReadFile(tree / "after-restart"), "ok");

  cluster.UnmountAll();
  cluster.StopAllServers();
  ExpectFsckClean(cluster);
}

INSTANTIATE_TEST_SUITE_P(StopSignals, FullRestartTest, ::testing::Values(SIGTERM, SIGKILL),
                         [](const auto& info) {
                           return info.param == SIGKILL ? std::string("Kill9")
                                                        : std::string("Sigterm");
                         });

// Namespace operations (several of them cross servers) in a loop, each iteration on fresh
// names, so the only legitimate failure is EIO while a server is down.
class NamespaceWorkload {
 public:
  NamespaceWorkload(std::filesystem::path root, int worker) : root_(std::move(root)) {
    prefix_ = "w" + std::to_string(worker) + "-";
  }
  // One iteration; returns 0 or the errno of the first failing step.
  int Step() {
    const auto n = prefix_ + std::to_string(iteration_++);
    const auto dir = root_ / "work" / n;
    int fd;
    if (::mkdir(dir.c_str(), 0755) != 0) return errno;
    if ((fd = ::open((dir / "f").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) < 0) return errno;
    const bool wrote = ::write(fd, n.data(), n.size()) == static_cast<ssize_t>(n.size());
    const int write_errno = errno;
    if (::close(fd) != 0) return errno;
    if (!wrote) return write_errno;
    if (::rename((dir / "f").c_str(), (dir / "g").c_str()) != 0) return errno;
    if (::mkdir((dir / "sub").c_str(), 0755) != 0) return errno;
    if (::link((dir / "g").c_str(), (root_ / "links" / n).c_str()) != 0) return errno;
    if (::rename(dir.c_str(), (root_ / "done" / n).c_str()) != 0) return errno;
    if (::rename((root_ / "done" / n / "sub").c_str(), (root_ / "subs" / n).c_str()) != 0) {
      return errno;
    }
    if (::unlink((root_ / "links" / n).c_str()) != 0) return errno;
    return 0;
  }

 private:
  std::filesystem::path root_;
  std::string prefix_;
  int iteration_ = 0;
};

class CrashConsistencyTest : public ClusterTest {};

TEST_F(CrashConsistencyTest, KillingEachServerMidWorkloadLeavesAConsistentNamespace) {
  auto& cluster = StartCluster({.chunk_size = kSmallChunkSize});
  auto& mount = cluster.AddMount({.timeout_ms = 2000});
  const auto root = mount.path();
  for (const char* d : {"work", "done", "links", "subs"}) {
    ASSERT_OK(::mkdir((root / d).c_str(), 0755));
  }

  constexpr int kWorkers = 2;
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::map<int, int> failures;  // errno -> count
  std::atomic<int> successes{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      NamespaceWorkload workload(root, w);
      while (!stop) {
        const int err = workload.Step();
        if (err == 0) {
          ++successes;
        } else {
          std::lock_guard lock(mu);
          ++failures[err];
        }
      }
    });
  }
  std::mt19937_64 rng(3);
  for (int id = 1; id <= cluster.server_count(); ++id) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 400));
    cluster.KillServer(id);
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    cluster.StartServer(id);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  for (auto& t : workers) t.join();

  std::string unexpected;
  for (const auto& [err, count] : failures) {
    if (err != EIO) {
      unexpected += std::string(strerrorname_np(err)) + " x" + std::to_string(count) + " ";
    }
  }
  EXPECT_EQ(unexpected, "") << "only EIO is an acceptable failure while a server is down";
  EXPECT_GT(successes.load(), 0);
  std::cerr << successes.load() << " iterations succeeded, " << failures[EIO]
            << " failed with EIO\n";

  // With every server back, the workload runs cleanly again.
  NamespaceWorkload after(root, 99);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(after.Step(), 0) << "iteration " << i << " after restart";
  // Everything that is listed can be looked up, and link counts match the names.
  EXPECT_NO_THROW(SnapshotTree(root));
  EXPECT_EQ(LinkCountMismatches(root), "");
  cluster.UnmountAll();
  mount.Mount();  // the same, with nothing cached in the client
  EXPECT_EQ(LinkCountMismatches(root), "");

  cluster.UnmountAll();
  cluster.StopAllServers();
  ExpectFsckClean(cluster);
}

}  // namespace
}  // namespace sealfs::it
