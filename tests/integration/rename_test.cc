// rename and renameat2: files and directories, same and different parents, replacing
// targets, and the errors POSIX and Linux prescribe. Within one sealfs mount a rename never
// fails with EXDEV, whichever servers hold the directories involved.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "file_util.h"
#include "fs_test.h"
#include "syscall_assertions.h"
#include "unique_fd.h"

namespace sealfs::it {
namespace {

using RenameTest = PosixTest;

int Renameat2(const std::filesystem::path& from, const std::filesystem::path& to, unsigned flags) {
  return ::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), flags);
}

TEST_F(RenameTest, FileWithinTheSameDirectory) {
  WriteFile(P("a"), "content");
  const auto ino = Stat(P("a")).st_ino;
  ASSERT_OK(::rename(P("a").c_str(), P("b").c_str()));
  EXPECT_FALSE(Exists(P("a")));
  EXPECT_EQ(ReadFile(P("b")), "content");
  EXPECT_EQ(Stat(P("b")).st_ino, ino);
  EXPECT_EQ(ListDir(dir()), std::vector<std::string>{"b"});
}

TEST_F(RenameTest, FileToAnotherDirectory) {
  ASSERT_OK(::mkdir(P("src").c_str(), 0755));
  ASSERT_OK(::mkdir(P("dst").c_str(), 0755));
  WriteFile(P("src/f"), "payload");
  ASSERT_OK(::rename(P("src/f").c_str(), P("dst/g").c_str()));
  EXPECT_TRUE(ListDir(P("src")).empty());
  EXPECT_EQ(ListDir(P("dst")), std::vector<std::string>{"g"});
  EXPECT_EQ(ReadFile(P("dst/g")), "payload");
}

TEST_F(RenameTest, DirectoryWithinTheSameParentKeepsItsContents) {
  ASSERT_OK(::mkdir(P("d").c_str(), 0755));
  WriteFile(P("d/f"), "inside");
  ASSERT_OK(::mkdir(P("d/sub").c_str(), 0755));
  ASSERT_OK(::rename(P("d").c_str(), P("e").c_str()));
  EXPECT_FALSE(Exists(P("d")));
  EXPECT_EQ(ReadFile(P("e/f")), "inside");
  EXPECT_TRUE(S_ISDIR(Stat(P("e/sub")).st_mode));
}

TEST_F(RenameTest, DirectoryToAnotherParentUpdatesDotDotAndLinkCounts) {
  ASSERT_OK(::mkdir(P("p1").c_str(), 0755));
  ASSERT_OK(::mkdir(P("p2").c_str(), 0755));
  ASSERT_OK(::mkdir(P("p1/d").c_str(), 0755));
  WriteFile(P("p1/d/f"), "inside");
  ASSERT_OK(::rename(P("p1/d").c_str(), P("p2/moved").c_str()));
  EXPECT_EQ(ReadFile(P("p2/moved/f")), "inside");
  EXPECT_EQ(Stat(P("p2/moved/..")).st_ino, Stat(P("p2")).st_ino);
  EXPECT_EQ(Stat(P("p1")).st_nlink, 2u);
  EXPECT_EQ(Stat(P("p2")).st_nlink, 3u);
  // The moved directory is fully usable at its new place.
  WriteFile(P("p2/moved/new"), "x");
  EXPECT_EQ(ListDir(P("p2/moved")).size(), 2u);
}

TEST_F(RenameTest, FileOverAnExistingFileReplacesIt) {
  WriteFile(P("a"), "new");
  WriteFile(P("b"), "old");
  const auto a_ino = Stat(P("a")).st_ino;
  UniqueFd old_fd(::open(P("b").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_OK(old_fd.get());
  ASSERT_OK(::rename(P("a").c_str(), P("b").c_str()));
  EXPECT_FALSE(Exists(P("a")));
  EXPECT_EQ(ReadFile(P("b")), "new");
  EXPECT_EQ(Stat(P("b")).st_ino, a_ino);
  EXPECT_EQ(ListDir(dir()), std::vector<std::string>{"b"});
  // The replaced file is unlinked but stays readable through an open descriptor.
  struct stat st {};
  ASSERT_OK(::fstat(old_fd.get(), &st));
  EXPECT_EQ(st.st_nlink, 0u);
  EXPECT_EQ(PreadFull(old_fd.get(), 10, 0), "old");
}

TEST_F(RenameTest, FileOverAHardLinkedTargetDropsOneLink) {
  WriteFile(P("a"), "a");
  WriteFile(P("b"), "b");
  ASSERT_OK(::link(P("b").c_str(), P("b2").c_str()));
  ASSERT_OK(::rename(P("a").c_str(), P("b").c_str()));
  EXPECT_EQ(Stat(P("b2")).st_nlink, 1u);
  EXPECT_EQ(ReadFile(P("b2")), "b");
}

TEST_F(RenameTest, DirectoryOverAnEmptyDirectoryReplacesIt) {
  ASSERT_OK(::mkdir(P("a").c_str(), 0755));
  WriteFile(P("a/f"), "x");
  ASSERT_OK(::mkdir(P("b").c_str(), 0755));
  ASSERT_OK(::rename(P("a").c_str(), P("b").c_str()));
  EXPECT_FALSE(Exists(P("a")));
  EXPECT_EQ(ReadFile(P("b/f")), "x");
  EXPECT_EQ(Stat(dir()).st_nlink, 3u);
}

TEST_F(RenameTest, DirectoryOntoANonEmptyDirectoryIsEnotempty) {
  ASSERT_OK(::mkdir(P("a").c_str(), 0755));
  ASSERT_OK(::mkdir(P("b").c_str(), 0755));
  WriteFile(P("b/keep"), "x");
  EXPECT_ERRNO(ENOTEMPTY, ::rename(P("a").c_str(), P("b").c_str()));
  EXPECT_TRUE(Exists(P("a")));
  EXPECT_EQ(ReadFile(P("b/keep")), "x");
}

TEST_F(RenameTest, TypeMismatchesAreEisdirAndEnotdir) {
  WriteFile(P("f"), "");
  ASSERT_OK(::mkdir(P("d").c_str(), 0755));
  EXPECT_ERRNO(EISDIR, ::rename(P("f").c_str(), P("d").c_str()));
  EXPECT_ERRNO(ENOTDIR, ::rename(P("d").c_str(), P("f").c_str()));
  EXPECT_TRUE(S_ISREG(Stat(P("f")).st_mode));
  EXPECT_TRUE(S_ISDIR(Stat(P("d")).st_mode));
}

TEST_F(RenameTest, NoreplaceFailsWithEexistOnlyWhenTheTargetExists) {
  WriteFile(P("a"), "a");
  WriteFile(P("b"), "b");
  EXPECT_ERRNO(EEXIST, Renameat2(P("a"), P("b"), RENAME_NOREPLACE));
  EXPECT_EQ(ReadFile(P("a")), "a");
  EXPECT_EQ(ReadFile(P("b")), "b");
  ASSERT_OK(::mkdir(P("d").c_str(), 0755));
  EXPECT_ERRNO(EEXIST, Renameat2(P("a"), P("d"), RENAME_NOREPLACE));
  EXPECT_OK(Renameat2(P("a"), P("c"), RENAME_NOREPLACE));
  EXPECT_EQ(ReadFile(P("c")), "a");
  EXPECT_FALSE(Exists(P("a")));
}

TEST_F(RenameTest, DirectoryIntoItsOwnSubtreeIsEinval) {
  ASSERT_OK(::mkdir(P("d").c_str(), 0755));
  ASSERT_OK(::mkdir(P("d/sub").c_str(), 0755));
  ASSERT_OK(::mkdir(P("d/sub/deeper").c_str(), 0755));
  EXPECT_ERRNO(EINVAL, ::rename(P("d").c_str(), P("d/x").c_str()));
  EXPECT_ERRNO(EINVAL, ::rename(P("d").c_str(), P("d/sub/deeper/x").c_str()));
  EXPECT_TRUE(Exists(P("d/sub/deeper")));
}

TEST_F(RenameTest, RenameOntoItselfOrAnotherLinkOfTheSameFileIsANoOp) {
  WriteFile(P("a"), "same");
  ASSERT_OK(::rename(P("a").c_str(), P("a").c_str()));
  EXPECT_EQ(ReadFile(P("a")), "same");
  ASSERT_OK(::link(P("a").c_str(), P("b").c_str()));
  ASSERT_OK(::rename(P("a").c_str(), P("b").c_str()));
  // POSIX: both names remain when they are links to the same file.
  EXPECT_TRUE(Exists(P("a")));
  EXPECT_TRUE(Exists(P("b")));
  EXPECT_EQ(Stat(P("a")).st_nlink, 2u);
}

// Directories and files spread over many directories land on every server; moving them
// around must work everywhere.
TEST_F(RenameTest, NeverExdevAcrossDirectories) {
  constexpr int kDirs = 24;
  for (int i = 0; i < kDirs; ++i) {
    ASSERT_OK(::mkdir(P("d" + std::to_string(i)).c_str(), 0755));
    WriteFile(P("d" + std::to_string(i) + "/f"), std::to_string(i));
    ASSERT_OK(::mkdir(P("d" + std::to_string(i) + "/sub").c_str(), 0755));
  }
  for (int i = 0; i < kDirs; ++i) {
    const auto from = "d" + std::to_string(i);
    const auto to = "d" + std::to_string((i + 7) % kDirs);
    SCOPED_TRACE(from + " -> " + to);
    EXPECT_OK(::rename(P(from + "/f").c_str(), P(to + "/f_from_" + from).c_str()));
    EXPECT_OK(::rename(P(from + "/sub").c_str(), P(to + "/sub_from_" + from).c_str()));
    EXPECT_OK(::link(P(to + "/f_from_" + from).c_str(), P(from + "/link_back").c_str()));
  }
  for (int i = 0; i < kDirs; ++i) {
    const auto from = "d" + std::to_string(i);
    const auto to = "d" + std::to_string((i + 7) % kDirs);
    EXPECT_EQ(ReadFile(P(to + "/f_from_" + from)), std::to_string(i));
    EXPECT_EQ(ReadFile(P(from + "/link_back")), std::to_string(i));
    EXPECT_TRUE(S_ISDIR(Stat(P(to + "/sub_from_" + from)).st_mode));
  }
  // And whole directories between parents.
  ASSERT_OK(::mkdir(P("top").c_str(), 0755));
  for (int i = 0; i < kDirs; ++i) {
    EXPECT_OK(::rename(P("d" + std::to_string(i)).c_str(), P("top/d" + std::to_string(i)).c_str()));
  }
  EXPECT_EQ(ListDir(P("top")).size(), static_cast<size_t>(kDirs));
  EXPECT_EQ(Stat(P("top")).st_nlink, 2u + kDirs);
}

}  // namespace
}  // namespace sealfs::it
