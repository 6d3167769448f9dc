// sealfs-fsck on a stopped cluster: clean after normal use, finds the damage when one
// server's data directory is rolled back to an older copy (a restore from backup), and
// --repair leaves a namespace that checks clean and is usable again. The rolled-back server
// is server 1, which holds the root directory and so certainly has state that the other
// servers' newer state refers to (or that refers to theirs).
#include <sys/stat.h>
#include <unistd.h>

#include <string>

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

}  // namespace
}  // namespace sealfs::it
