// sealfs-fsck on a stopped cluster: clean after normal use, finds the damage when one
// server's data directory is rolled back to an older copy (a restore from backup), and
// --repair leaves a namespace that checks clean and is usable again. The rolled-back server
// is server 1, which holds the root directory and so certainly has state that the other
// servers' newer state refers to (or that refers to theirs).
//
// sealfs-fsck on a running cluster: clean while a workload changes the namespace (nothing in
// flight is reported), finds an inode record deleted behind the servers' backs, refuses
// --repair, and names a server that does not answer.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "binaries.h"
#include "file_util.h"
#include "fs_test.h"
#include "link_counts.h"
#include "subprocess.h"
#include "syscall_assertions.h"
#include "tree_snapshot.h"

namespace sealfs::it {
namespace {

class FsckTest : public ClusterTest {};

// Directories and files spread over every server, with hard links across directories.
void MakeTree(const std::filesystem::path& root, const std::string& tag) {
  for (int d = 0; d < 20; ++d) {
    const auto dir = root / (tag + "-dir" + std::to_string(d));
    ASSERT_OK(::mkdir(dir.c_str(), 0755));
    for (int f = 0; f < 5; ++f) WriteFile(dir / ("f" + std::to_string(f)), tag);
    ASSERT_OK(::mkdir((dir / "sub").c_str(), 0755));
    if (d > 0) {
      const auto other = root / (tag + "-dir" + std::to_string(d - 1));
      ASSERT_OK(::link((dir / "f0").c_str(), (other / "link").c_str()));
    }
  }
}

void CopyTree(const std::filesystem::path& from, const std::filesystem::path& to) {
  const auto r =
      RunCommand({"/bin/cp", "-a", from.string(), to.string()}, std::chrono::seconds(60));
  ASSERT_EQ(r.status, 0) << r.output;
}

TEST_F(FsckTest, CleanClusterPasses) {
  auto& cluster = StartCluster();
  auto& mount = cluster.AddMount();
  MakeTree(mount.path(), "a");
  cluster.UnmountAll();
  cluster.StopAllServers();
  const auto fsck = cluster.Fsck();
  EXPECT_EQ(fsck.status, 0) << fsck.output;
}

TEST_F(FsckTest, FindsAndRepairsAServerRolledBackToAnOlderCopy) {
  auto& cluster = StartCluster();
  auto& mount = cluster.AddMount();
  ASSERT_NO_FATAL_FAILURE(MakeTree(mount.path(), "old"));
  cluster.UnmountAll();
  cluster.StopAllServers();
  const auto data = cluster.dir() / "s1";
  const auto backup = cluster.dir() / "s1.backup";
  CopyTree(data, backup);

  cluster.StartAllServers();
  mount.Mount();
  ASSERT_NO_FATAL_FAILURE(MakeTree(mount.path(), "new"));
  for (int d = 0; d < 20; d += 2) {
    const auto name = "old-dir" + std::to_string(d);
    ASSERT_OK(::rename((mount.path() / name).c_str(), (mount.path() / ("moved-" + name)).c_str()));
  }
  cluster.UnmountAll();
  cluster.StopAllServers();

  std::filesystem::remove_all(data);
  std::filesystem::rename(backup, data);
  const auto check = cluster.Fsck();
  EXPECT_EQ(check.status, 1) << "fsck did not report the rolled-back server:\n" << check.output;
  EXPECT_FALSE(check.output.empty());

  const auto repair = cluster.Fsck(/*repair=*/true);
  EXPECT_EQ(repair.status, 0) << repair.output;
  const auto recheck = cluster.Fsck();
  EXPECT_EQ(recheck.status, 0) << "still inconsistent after --repair:\n" << recheck.output;

  // The repaired namespace can be walked and changed.
  cluster.StartAllServers();
  mount.Mount();
  EXPECT_NO_THROW(SnapshotTree(mount.path()));
  EXPECT_EQ(LinkCountMismatches(mount.path()), "");
  WriteFile(mount.path() / "after-repair", "ok");
  EXPECT_EQ(ReadFile(mount.path() / "after-repair"), "ok");
}

// Creates, writes, renames, hard-links and unlinks files and directories on a mount, from
// several threads, until destroyed. Each thread works on names of its own.
class Workload {
 public:
  Workload(const std::filesystem::path& root, int threads) {
    std::vector<std::filesystem::path> dirs;
    for (int t = 0; t < threads; ++t) {
      dirs.push_back(root / ("work" + std::to_string(t)));
      if (::mkdir(dirs.back().c_str(), 0755) != 0) Fail("mkdir " + dirs.back().string());
    }
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back(
          [this, dir = dirs[t], other = dirs[(t + 1) % threads], t](std::stop_token stop) {
            for (int i = 0; !stop.stop_requested(); ++i) Step(dir, other, t, i);
          });
    }
  }
  ~Workload() { Stop(); }

  void Stop() {
    for (auto& t : threads_) t.request_stop();
    threads_.clear();  // joins
  }
  int operations() const { return operations_.load(); }
  std::string error() {
    std::lock_guard lock(mu_);
    return error_;
  }

 private:
  void Check(int result, const std::string& what) {
    if (result != 0) Fail(what);
    ++operations_;
  }
  void Fail(const std::string& what) {
    const std::string err = what + ": " + std::strerror(errno);
    std::lock_guard lock(mu_);
    if (error_.empty()) error_ = err;
  }
  void Step(const std::filesystem::path& dir, const std::filesystem::path& other, int t, int i) {
    const std::string n = std::to_string(i);
    const auto f = dir / ("f" + n), g = dir / ("g" + n), h = dir / ("h" + n);
    try {
      WriteFile(f, "data of " + f.string());
      ++operations_;
    } catch (const std::exception& e) {
      Fail(e.what());
      return;
    }
    Check(::rename(f.c_str(), g.c_str()), "rename " + f.string());
    if (i % 3 == 0) {
      Check(::link(g.c_str(), h.c_str()), "link " + g.string());
      Check(::unlink(h.c_str()), "unlink " + h.string());
    }
    if (i % 4 == 0) {
      const auto d = dir / ("d" + n), e = dir / ("e" + n);
      Check(::mkdir(d.c_str(), 0755), "mkdir " + d.string());
      Check(::rename(d.c_str(), e.c_str()), "rename " + d.string());
      Check(::rmdir(e.c_str()), "rmdir " + e.string());
    }
    if (i % 2 == 0) {
      Check(::unlink(g.c_str()), "unlink " + g.string());
    } else {  // to another thread's directory, under a name of this thread
      const auto moved = other / ("from" + std::to_string(t) + "-" + n);
      Check(::rename(g.c_str(), moved.c_str()), "rename " + g.string());
      Check(::unlink(moved.c_str()), "unlink " + moved.string());
    }
  }

  std::atomic<int> operations_{0};
  std::mutex mu_;
  std::string error_;
  std::vector<std::jthread> threads_;
};

// The LevelDB key of an inode record (userspace/server/meta_store.h), in hex.
std::string InodeKeyHex(uint64_t ino) {
  char hex[2 + 16 + 1];
  std::snprintf(hex, sizeof hex, "49%016llx", static_cast<unsigned long long>(ino));
  return hex;
}

TEST_F(FsckTest, OnlineCheckOfARunningClusterIsCleanWhileAWorkloadRuns) {
  auto& cluster = StartCluster();
  auto& mount = cluster.AddMount();
  ASSERT_NO_FATAL_FAILURE(MakeTree(mount.path(), "a"));
  Workload workload(mount.path(), 3);
  for (int run = 0; run < 2; ++run) {
    const int before = workload.operations();
    const auto fsck = cluster.Fsck(false, {"--online"});
    EXPECT_EQ(fsck.status, 0) << "run " << run << ":\n" << fsck.output;
    EXPECT_NE(fsck.output.find("3 running servers, 0 problems"), std::string::npos) << fsck.output;
    EXPECT_GT(workload.operations(), before) << "the workload did not run during fsck";
  }
  workload.Stop();
  EXPECT_EQ(workload.error(), "");
  EXPECT_GT(workload.operations(), 100);
  // Quiet again: the default mode finds the servers running and checks online.
  const auto fsck = cluster.Fsck(false, {"--settle-ms", "0"});
  EXPECT_EQ(fsck.status, 0) << fsck.output;
  EXPECT_NE(fsck.output.find("running servers"), std::string::npos) << fsck.output;
}

TEST_F(FsckTest, OnlineCheckFindsAnInodeDeletedBehindTheServersBacks) {
  auto& cluster = StartCluster();
  auto& mount = cluster.AddMount();
  ASSERT_NO_FATAL_FAILURE(MakeTree(mount.path(), "a"));
  const uint64_t ino = Stat(mount.path() / "a-dir3" / "f2").st_ino;
  cluster.UnmountAll();
  const int home = static_cast<int>(ino >> 48);  // the inode's home server (ino.h)
  cluster.StopServer(home);
  const auto del = RunCommand(
      {BinaryPath("sealfs_test_leveldb_delete").string(),
       (cluster.dir() / ("s" + std::to_string(home)) / "meta").string(), InodeKeyHex(ino)},
      std::chrono::seconds(30));
  ASSERT_EQ(del.status, 0) << del.output;
  cluster.StartServer(home);

  const auto check = cluster.Fsck(false, {"--online", "--settle-ms", "500"});
  EXPECT_EQ(check.status, 1) << check.output;
  char hex[32];
  std::snprintf(hex, sizeof hex, "%#llx", static_cast<unsigned long long>(ino));
  EXPECT_NE(check.output.find("/f2 points at missing inode " + std::string(hex)), std::string::npos)
      << check.output;

  const auto repair = cluster.Fsck(true);
  EXPECT_EQ(repair.status, 2) << repair.output;
  EXPECT_NE(repair.output.find("stop the cluster first"), std::string::npos) << repair.output;

  cluster.StopAllServers();
  const auto offline = cluster.Fsck(true);
  EXPECT_EQ(offline.status, 0) << offline.output;
  cluster.StartAllServers();
  const auto recheck = cluster.Fsck(false, {"--online", "--settle-ms", "0"});
  EXPECT_EQ(recheck.status, 0) << recheck.output;
}

TEST_F(FsckTest, NamesAServerThatDoesNotAnswer) {
  auto& cluster = StartCluster();
  cluster.StopServer(2);
  const std::string name =
      "server 2 (" + cluster.address(2) + ":" + std::to_string(cluster.port(2)) + ")";
  for (const std::vector<std::string>& options :
       {std::vector<std::string>{"--online"}, std::vector<std::string>{}}) {
    const auto fsck = cluster.Fsck(false, options);
    EXPECT_EQ(fsck.status, 2) << fsck.output;
    EXPECT_NE(fsck.output.find(name), std::string::npos) << fsck.output;
  }
}

}  // namespace
}  // namespace sealfs::it
