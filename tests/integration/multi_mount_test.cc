// Two clients mounting the same cluster see each other's changes: metadata within the
// attribute timeout (1 s here), file contents immediately on open (close-to-open).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "file_util.h"
#include "fs_test.h"
#include "poll_until.h"
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
}

}  // namespace
}  // namespace sealfs::it
