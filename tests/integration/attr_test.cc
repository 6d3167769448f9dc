// Attributes: getattr, setattr (chmod, chown, truncate, utimensat), the ctime/mtime rules,
// and statfs.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <string>
#include <thread>

#include "file_util.h"
#include "fs_test.h"
#include "syscall_assertions.h"
#include "timespec_ops.h"

namespace sealfs::it {
namespace {

using AttrTest = PosixTest;

// Long enough for any file system's timestamp granularity to tick.
void LetTimePass() { std::this_thread::sleep_for(std::chrono::milliseconds(30)); }

timespec Now() {
  timespec t{};
  ::clock_gettime(CLOCK_REALTIME, &t);
  return t;
}

TEST_F(AttrTest, GetattrReportsTypeSizeAndOwner) {
  WriteFile(P("f"), std::string(12345, 'x'));
  const auto st = Stat(P("f"));
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_size, 12345);
  EXPECT_EQ(st.st_nlink, 1u);
  EXPECT_EQ(st.st_uid, ::geteuid());
  EXPECT_EQ(st.st_gid, ::getegid());
  EXPECT_GT(st.st_blksize, 0);
  EXPECT_GE(st.st_blocks * 512, 12345);
  const auto now = Now();
  EXPECT_LE(st.st_mtim.tv_sec, now.tv_sec + 1);
  EXPECT_GE(st.st_mtim.tv_sec, now.tv_sec - 60);
}

TEST_F(AttrTest, ChmodChangesPermissionBitsIncludingSpecialBits) {
  WriteFile(P("f"), "");
  for (mode_t mode : {0000, 0644, 0755, 04755, 02755, 01777, 0400}) {
    SCOPED_TRACE(mode);
    ASSERT_OK(::chmod(P("f").c_str(), mode));
    const auto st = Stat(P("f"));
    EXPECT_EQ(st.st_mode & 07777, mode);
    EXPECT_TRUE(S_ISREG(st.st_mode));
  }
  ASSERT_OK(::mkdir(P("d").c_str(), 0755));
  ASSERT_OK(::chmod(P("d").c_str(), 0711));
  EXPECT_EQ(Stat(P("d")).st_mode & 07777, 0711u);
  EXPECT_TRUE(S_ISDIR(Stat(P("d")).st_mode));
}

TEST_F(AttrTest, ChownChangesOwnerAndGroupSeparately) {
  WriteFile(P("f"), "");
  ASSERT_OK(::chown(P("f").c_str(), 1000, 2000));
  EXPECT_EQ(Stat(P("f")).st_uid, 1000u);
  EXPECT_EQ(Stat(P("f")).st_gid, 2000u);
  ASSERT_OK(::chown(P("f").c_str(), static_cast<uid_t>(-1), 3000));
  EXPECT_EQ(Stat(P("f")).st_uid, 1000u);
  EXPECT_EQ(Stat(P("f")).st_gid, 3000u);
  ASSERT_OK(::chown(P("f").c_str(), 4000, static_cast<gid_t>(-1)));
  EXPECT_EQ(Stat(P("f")).st_uid, 4000u);
  EXPECT_EQ(Stat(P("f")).st_gid, 3000u);
  // lchown changes the link, not its target.
  ASSERT_OK(::symlink("f", P("l").c_str()));
  ASSERT_OK(::lchown(P("l").c_str(), 5000, 5000));
  EXPECT_EQ(Lstat(P("l")).st_uid, 5000u);
  EXPECT_EQ(Stat(P("f")).st_uid, 4000u);
}

TEST_F(AttrTest, TruncateDownAndUpKeepsPrefixAndReadsZerosBeyond) {
  // Sizes cross 64 KiB boundaries so a chunked store drops and re-grows chunks.
  const std::string data(200 * 1024, '\xab');
  WriteFile(P("f"), data);
  ASSERT_OK(::truncate(P("f").c_str(), 100 * 1024 + 7));
  EXPECT_EQ(Stat(P("f")).st_size, 100 * 1024 + 7);
  EXPECT_EQ(ReadFile(P("f")), data.substr(0, 100 * 1024 + 7));

  // Growing again must not bring the old bytes back.
  ASSERT_OK(::truncate(P("f").c_str(), 300 * 1024));
  EXPECT_EQ(Stat(P("f")).st_size, 300 * 1024);
  const std::string expected = data.substr(0, 100 * 1024 + 7) + std::string(200 * 1024 - 7, '\0');
  const auto got = ReadFile(P("f"));
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected) << "old data reappeared after truncate down then up";

  ASSERT_OK(::truncate(P("f").c_str(), 0));
  EXPECT_EQ(Stat(P("f")).st_size, 0);
  EXPECT_EQ(ReadFile(P("f")), "");
}

TEST_F(AttrTest, FtruncateOnOpenFile) {
  auto fd = Open(P("f"), O_RDWR | O_CREAT);
  PwriteFull(fd.get(), "0123456789", 0);
  ASSERT_OK(::ftruncate(fd.get(), 4));
  EXPECT_EQ(PreadFull(fd.get(), 100, 0), "0123");
  ASSERT_OK(::ftruncate(fd.get(), 6));
  EXPECT_EQ(PreadFull(fd.get(), 100, 0), std::string("0123\0\0", 6));
  struct stat st {};
  ASSERT_OK(::fstat(fd.get(), &st));
  EXPECT_EQ(st.st_size, 6);
}

TEST_F(AttrTest, OpenWithOTruncEmptiesTheFile) {
  WriteFile(P("f"), "old content");
  Open(P("f"), O_WRONLY | O_TRUNC);
  EXPECT_EQ(Stat(P("f")).st_size, 0);
  EXPECT_EQ(ReadFile(P("f")), "");
}

TEST_F(AttrTest, UtimensatSetsExactTimes) {
  WriteFile(P("f"), "");
  const timespec times[2] = {{1000000000, 123456789}, {1500000000, 987654321}};
  ASSERT_OK(::utimensat(AT_FDCWD, P("f").c_str(), times, 0));
  const auto st = Stat(P("f"));
  EXPECT_EQ(st.st_atim, times[0]);
  EXPECT_EQ(st.st_mtim, times[1]);
}

TEST_F(AttrTest, UtimensatHonoursUtimeNowAndUtimeOmit) {
  WriteFile(P("f"), "");
  const timespec old_times[2] = {{1000000000, 0}, {1100000000, 0}};
  ASSERT_OK(::utimensat(AT_FDCWD, P("f").c_str(), old_times, 0));

  const auto before = Now();
  const timespec now_omit[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
  ASSERT_OK(::utimensat(AT_FDCWD, P("f").c_str(), now_omit, 0));
  auto st = Stat(P("f"));
  EXPECT_EQ(st.st_atim, old_times[0]) << "UTIME_OMIT changed atime";
  EXPECT_GE(st.st_mtim.tv_sec, before.tv_sec - 1) << "UTIME_NOW did not set mtime to now";
  EXPECT_LE(st.st_mtim.tv_sec, Now().tv_sec + 1);

  const timespec omit_now[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
  const auto mtime = st.st_mtim;
  ASSERT_OK(::utimensat(AT_FDCWD, P("f").c_str(), omit_now, 0));
  st = Stat(P("f"));
  EXPECT_GE(st.st_atim.tv_sec, before.tv_sec - 1) << "UTIME_NOW did not set atime to now";
  EXPECT_EQ(st.st_mtim, mtime) << "UTIME_OMIT changed mtime";

  // Both omitted: nothing changes.
  const auto unchanged = Stat(P("f"));
  const timespec omit_omit[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
  LetTimePass();
  ASSERT_OK(::utimensat(AT_FDCWD, P("f").c_str(), omit_omit, 0));
  st = Stat(P("f"));
  EXPECT_EQ(st.st_atim, unchanged.st_atim);
  EXPECT_EQ(st.st_mtim, unchanged.st_mtim);
}

TEST_F(AttrTest, UtimensatWithNullSetsBothToNowAndUpdatesCtime) {
  WriteFile(P("f"), "");
  const timespec old_times[2] = {{1000000000, 0}, {1000000000, 0}};
  ASSERT_OK(::utimensat(AT_FDCWD, P("f").c_str(), old_times, 0));
  const auto ctime_before = Stat(P("f")).st_ctim;
  LetTimePass();
  const auto before = Now();
  ASSERT_OK(::utimensat(AT_FDCWD, P("f").c_str(), nullptr, 0));
  const auto st = Stat(P("f"));
  EXPECT_GE(st.st_atim.tv_sec, before.tv_sec - 1);
  EXPECT_GE(st.st_mtim.tv_sec, before.tv_sec - 1);
  EXPECT_LT(ctime_before, st.st_ctim) << "utimensat must update ctime";
}

TEST_F(AttrTest, WriteUpdatesMtimeAndCtime) {
  WriteFile(P("f"), "before");
  const auto before = Stat(P("f"));
  LetTimePass();
  {
    auto fd = Open(P("f"), O_WRONLY);
    PwriteFull(fd.get(), "after", 0);
  }
  const auto after = Stat(P("f"));
  EXPECT_LT(before.st_mtim, after.st_mtim);
  EXPECT_LT(before.st_ctim, after.st_ctim);
}

TEST_F(AttrTest, TruncateUpdatesMtimeAndCtime) {
  WriteFile(P("f"), "some bytes");
  const auto before = Stat(P("f"));
  LetTimePass();
  ASSERT_OK(::truncate(P("f").c_str(), 3));
  const auto after = Stat(P("f"));
  EXPECT_LT(before.st_mtim, after.st_mtim);
  EXPECT_LT(before.st_ctim, after.st_ctim);
}

TEST_F(AttrTest, ChmodAndChownUpdateCtimeOnly) {
  WriteFile(P("f"), "x");
  auto before = Stat(P("f"));
  LetTimePass();
  ASSERT_OK(::chmod(P("f").c_str(), 0600));
  auto after = Stat(P("f"));
  EXPECT_EQ(before.st_mtim, after.st_mtim) << "chmod changed mtime";
  EXPECT_LT(before.st_ctim, after.st_ctim) << "chmod did not update ctime";

  before = after;
  LetTimePass();
  ASSERT_OK(::chown(P("f").c_str(), 1234, 1234));
  after = Stat(P("f"));
  EXPECT_EQ(before.st_mtim, after.st_mtim) << "chown changed mtime";
  EXPECT_LT(before.st_ctim, after.st_ctim) << "chown did not update ctime";
}

// Every way of adding or removing an entry updates the parent's mtime and ctime.
TEST_F(AttrTest, EntryChangesUpdateParentMtimeAndCtime) {
  ASSERT_OK(::mkdir(P("d").c_str(), 0755));
  ASSERT_OK(::mkdir(P("other").c_str(), 0755));
  const auto parent = P("d");
  auto expect_parent_touched = [&](const char* what, auto&& op) {
    SCOPED_TRACE(what);
    const auto before = Stat(parent);
    LetTimePass();
    op();
    const auto after = Stat(parent);
    EXPECT_LT(before.st_mtim, after.st_mtim) << what << " did not update the parent's mtime";
    EXPECT_LT(before.st_ctim, after.st_ctim) << what << " did not update the parent's ctime";
  };
  expect_parent_touched("create", [&] { WriteFile(P("d/f"), ""); });
  expect_parent_touched("mkdir", [&] { ASSERT_OK(::mkdir(P("d/sub").c_str(), 0755)); });
  expect_parent_touched("mknod", [&] { ASSERT_OK(::mknod(P("d/n").c_str(), S_IFIFO | 0644, 0)); });
  expect_parent_touched("symlink", [&] { ASSERT_OK(::symlink("x", P("d/s").c_str())); });
  expect_parent_touched("link", [&] { ASSERT_OK(::link(P("d/f").c_str(), P("d/h").c_str())); });
  expect_parent_touched("rename within",
                        [&] { ASSERT_OK(::rename(P("d/h").c_str(), P("d/h2").c_str())); });
  expect_parent_touched("rename out",
                        [&] { ASSERT_OK(::rename(P("d/h2").c_str(), P("other/h").c_str())); });
  expect_parent_touched("unlink", [&] { ASSERT_OK(::unlink(P("d/f").c_str())); });
  expect_parent_touched("rmdir", [&] { ASSERT_OK(::rmdir(P("d/sub").c_str())); });
}

TEST_F(AttrTest, LinkAndUnlinkUpdateTheFilesCtime) {
  WriteFile(P("f"), "x");
  auto before = Stat(P("f"));
  LetTimePass();
  ASSERT_OK(::link(P("f").c_str(), P("g").c_str()));
  auto after = Stat(P("f"));
  EXPECT_LT(before.st_ctim, after.st_ctim) << "link did not update the file's ctime";
  EXPECT_EQ(before.st_mtim, after.st_mtim) << "link changed the file's mtime";
  before = after;
  LetTimePass();
  ASSERT_OK(::unlink(P("g").c_str()));
  after = Stat(P("f"));
  EXPECT_LT(before.st_ctim, after.st_ctim) << "unlink did not update the file's ctime";
}

TEST_F(AttrTest, ReadingDoesNotChangeMtimeOrCtime) {
  WriteFile(P("f"), "content");
  const auto before = Stat(P("f"));
  LetTimePass();
  EXPECT_EQ(ReadFile(P("f")), "content");
  const auto after = Stat(P("f"));
  EXPECT_EQ(before.st_mtim, after.st_mtim);
  EXPECT_EQ(before.st_ctim, after.st_ctim);
}

TEST_F(AttrTest, StatfsReportsNonzeroTotals) {
  struct statvfs vfs {};
  ASSERT_OK(::statvfs(dir().c_str(), &vfs));
  EXPECT_GT(vfs.f_bsize, 0u);
  EXPECT_GT(vfs.f_frsize, 0u);
  EXPECT_GT(vfs.f_blocks, 0u);
  EXPECT_LE(vfs.f_bfree, vfs.f_blocks);
  EXPECT_LE(vfs.f_bavail, vfs.f_bfree);
  EXPECT_GT(vfs.f_files, 0u);
  EXPECT_LE(vfs.f_ffree, vfs.f_files);
  EXPECT_EQ(vfs.f_namemax, 255u);
}

}  // namespace
}  // namespace sealfs::it
