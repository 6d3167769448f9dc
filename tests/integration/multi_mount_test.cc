// Two clients mounting the same cluster see each other's changes: metadata within the
// attribute timeout (1 s here), file contents immediately on open (close-to-open).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>

#include "file_util.h"
#include "fs_test.h"
#include "link_counts.h"
#include "poll_until.h"
#include "run_threads.h"
#include "syscall_assertions.h"

namespace sealfs::it {
namespace {

// The attribute timeout plus scheduling slack.
constexpr auto kVisibleWithin = std::chrono::milliseconds(1500);

class MultiMountTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    if (IsSkipped()) return;
    auto& cluster = StartCluster();
    a_ = cluster.AddMount().path();
    b_ = cluster.AddMount().path();
  }
  std::filesystem::path a_, b_;
};

TEST_F(MultiMountTest, CreationOnOneMountBecomesVisibleOnTheOther) {
  // B looks the names up first, so a cached negative entry has to expire.
  EXPECT_FALSE(Exists(b_ / "file"));
  EXPECT_FALSE(Exists(b_ / "dir"));
  WriteFile(a_ / "file", "from A");
  ASSERT_OK(::mkdir((a_ / "dir").c_str(), 0755));
  EXPECT_TRUE(PollUntil([&] { return Exists(b_ / "file"); }, kVisibleWithin));
  EXPECT_TRUE(PollUntil([&] { return Exists(b_ / "dir"); }, kVisibleWithin));
  EXPECT_EQ(ReadFile(b_ / "file"), "from A");
  EXPECT_EQ(Stat(b_ / "file").st_ino, Stat(a_ / "file").st_ino);
}

TEST_F(MultiMountTest, ReaddirOnTheOtherMountListsNewEntriesAtOnce) {
  ASSERT_OK(::mkdir((a_ / "d").c_str(), 0755));
  ASSERT_TRUE(PollUntil([&] { return Exists(b_ / "d"); }, kVisibleWithin));
  EXPECT_TRUE(ListDir(b_ / "d").empty());
  for (int i = 0; i < 10; ++i) WriteFile(a_ / "d" / std::to_string(i), "");
  EXPECT_EQ(ListDir(b_ / "d").size(), 10u);
}

TEST_F(MultiMountTest, CloseToOpenSeesNewContentImmediately) {
  WriteFile(a_ / "f", "version-1");
  ASSERT_TRUE(PollUntil([&] { return Exists(b_ / "f"); }, kVisibleWithin));
  EXPECT_EQ(ReadFile(b_ / "f"), "version-1");  // B now has it cached
  // Same size: only a fresh open on B can tell the content changed.
  WriteFile(a_ / "f", "VERSION-2");
  EXPECT_EQ(ReadFile(b_ / "f"), "VERSION-2");
  // Larger: the new size must be picked up too.
  WriteFile(a_ / "f", "version-3 is longer than before");
  EXPECT_EQ(ReadFile(b_ / "f"), "version-3 is longer than before");
  // Shorter.
  WriteFile(a_ / "f", "v4");
  EXPECT_EQ(ReadFile(b_ / "f"), "v4");
  // And the other way round.
  WriteFile(b_ / "f", "from B");
  EXPECT_EQ(ReadFile(a_ / "f"), "from B");
}

TEST_F(MultiMountTest, RemovalAndRenameBecomeVisibleOnTheOther) {
  WriteFile(a_ / "gone", "x");
  WriteFile(a_ / "old", "moved");
  ASSERT_TRUE(PollUntil([&] { return Exists(b_ / "gone") && Exists(b_ / "old"); }, kVisibleWithin));
  ASSERT_OK(::unlink((a_ / "gone").c_str()));
  ASSERT_OK(::rename((a_ / "old").c_str(), (a_ / "new").c_str()));
  EXPECT_TRUE(PollUntil([&] { return !Exists(b_ / "gone"); }, kVisibleWithin));
  EXPECT_TRUE(PollUntil([&] { return !Exists(b_ / "old"); }, kVisibleWithin));
  EXPECT_TRUE(PollUntil([&] { return Exists(b_ / "new"); }, kVisibleWithin));
  EXPECT_EQ(ReadFile(b_ / "new"), "moved");
}

TEST_F(MultiMountTest, AttributeChangesBecomeVisibleOnTheOther) {
  WriteFile(a_ / "f", "x");
  ASSERT_TRUE(PollUntil([&] { return Exists(b_ / "f"); }, kVisibleWithin));
  EXPECT_EQ(Stat(b_ / "f").st_mode & 07777, 0644u);
  ASSERT_OK(::chmod((a_ / "f").c_str(), 0600));
  EXPECT_TRUE(PollUntil([&] { return (Stat(b_ / "f").st_mode & 07777) == 0600; }, kVisibleWithin));
  {
    auto fd = Open(a_ / "f", O_WRONLY | O_APPEND);
    PwriteFull(fd.get(), std::string(100000, 'y'), 1);
  }
  EXPECT_TRUE(PollUntil([&] { return Stat(b_ / "f").st_size == 100001; }, kVisibleWithin))
      << "size on B: " << Stat(b_ / "f").st_size;
}

// The kernel serializes conflicting operations within one mount; between two mounts only
// the servers can. Each race below is repeated to hit the window.
constexpr int kRaceRounds = 30;

TEST_F(MultiMountTest, RacingExclusiveCreatesFromTwoMountsHaveOneWinner) {
  for (int round = 0; round < kRaceRounds; ++round) {
    const auto name = "excl" + std::to_string(round);
    std::atomic<int> wins{0};
    ASSERT_TRUE(RunThreads(2, std::chrono::seconds(30), [&](int t) {
      const auto path = (t == 0 ? a_ : b_) / name;
      const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
      if (fd >= 0) {
        ++wins;
        ::close(fd);
      }
    }));
    EXPECT_EQ(wins.load(), 1) << "round " << round;
  }
}

TEST_F(MultiMountTest, RacingRenamesFromTwoMountsHaveOneWinner) {
  for (int round = 0; round < kRaceRounds; ++round) {
    const auto name = "f" + std::to_string(round);
    WriteFile(a_ / name, name);
    ASSERT_TRUE(PollUntil([&] { return Exists(b_ / name); }, kVisibleWithin));
    std::atomic<int> wins{0};
    ASSERT_TRUE(RunThreads(2, std::chrono::seconds(30), [&](int t) {
      const auto& root = t == 0 ? a_ : b_;
      const auto to = root / (name + (t == 0 ? "-by-a" : "-by-b"));
      if (::rename((root / name).c_str(), to.c_str()) == 0) ++wins;
    }));
    EXPECT_EQ(wins.load(), 1) << "round " << round;
    EXPECT_EQ(Exists(a_ / (name + "-by-a")) + Exists(a_ / (name + "-by-b")), 1)
        << "round " << round;
  }
  EXPECT_EQ(LinkCountMismatches(a_), "");
}

// rename(x, y/x) on A races rename(y, x/y) on B: at most one may succeed, or the two
// directories would form a cycle cut off from the root.
TEST_F(MultiMountTest, CrossedDirectoryRenamesFromTwoMountsMakeNoCycle) {
  for (int round = 0; round < kRaceRounds; ++round) {
    const auto x = "x" + std::to_string(round), y = "y" + std::to_string(round);
    ASSERT_OK(::mkdir((a_ / x).c_str(), 0755));
    ASSERT_OK(::mkdir((a_ / y).c_str(), 0755));
    ASSERT_TRUE(PollUntil([&] { return Exists(b_ / x) && Exists(b_ / y); }, kVisibleWithin));
    ASSERT_TRUE(RunThreads(2, std::chrono::seconds(30), [&](int t) {
      if (t == 0) {
        ::rename((a_ / x).c_str(), (a_ / y / x).c_str());
      } else {
        ::rename((b_ / y).c_str(), (b_ / x / y).c_str());
      }
    }));
    const bool x_in_root = Exists(a_ / x), y_in_root = Exists(a_ / y);
    EXPECT_TRUE(x_in_root || y_in_root)
        << "round " << round << ": both directories vanished from the root (a cycle)";
  }
  EXPECT_EQ(LinkCountMismatches(a_), "");
}

// rmdir(d) on A races create(d/f) on B: never both, or f would live in a removed directory.
TEST_F(MultiMountTest, RmdirRacingACreateInsideFromTheOtherMount) {
  for (int round = 0; round < kRaceRounds; ++round) {
    const auto d = "d" + std::to_string(round);
    ASSERT_OK(::mkdir((a_ / d).c_str(), 0755));
    ASSERT_TRUE(PollUntil([&] { return Exists(b_ / d); }, kVisibleWithin));
    std::atomic<bool> removed{false}, created{false};
    ASSERT_TRUE(RunThreads(2, std::chrono::seconds(30), [&](int t) {
      if (t == 0) {
        removed = ::rmdir((a_ / d).c_str()) == 0;
      } else {
        created = ::mknod((b_ / d / "f").c_str(), S_IFREG | 0644, 0) == 0;
      }
    }));
    EXPECT_FALSE(removed && created)
        << "round " << round << ": rmdir and a create inside both succeeded";
    EXPECT_EQ(Exists(a_ / d), !removed.load()) << "round " << round;
  }
}

}  // namespace
}  // namespace sealfs::it
