// Hard links, symbolic links and link counts.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "file_util.h"
#include "fs_test.h"
#include "syscall_assertions.h"
#include "unique_fd.h"

namespace sealfs::it {
namespace {

using LinkTest = PosixTest;

std::string Readlink(const std::filesystem::path& path) {
  std::string buf(8192, '\0');
  const ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
  if (n < 0) return "<readlink failed: " + std::string(std::strerror(errno)) + ">";
  buf.resize(static_cast<size_t>(n));
  return buf;
}

TEST_F(LinkTest, HardLinksShareTheInodeAndCountLinks) {
  WriteFile(P("a"), "shared");
  ASSERT_OK(::mkdir(P("other").c_str(), 0755));
  ASSERT_OK(::link(P("a").c_str(), P("b").c_str()));
  ASSERT_OK(::link(P("a").c_str(), P("other/c").c_str()));
  const auto a = Stat(P("a"));
  EXPECT_EQ(a.st_nlink, 3u);
  EXPECT_EQ(Stat(P("b")).st_ino, a.st_ino);
  EXPECT_EQ(Stat(P("other/c")).st_ino, a.st_ino);
  EXPECT_EQ(Stat(P("other/c")).st_nlink, 3u);

  // A write through one name is seen through the others.
  {
    auto fd = Open(P("other/c"), O_WRONLY);
    PwriteFull(fd.get(), "SH", 0);
  }
  EXPECT_EQ(ReadFile(P("a")), "SHared");
  EXPECT_EQ(ReadFile(P("b")), "SHared");

  ASSERT_OK(::unlink(P("a").c_str()));
  EXPECT_EQ(Stat(P("b")).st_nlink, 2u);
  ASSERT_OK(::unlink(P("other/c").c_str()));
  EXPECT_EQ(Stat(P("b")).st_nlink, 1u);
  EXPECT_EQ(ReadFile(P("b")), "SHared");
}

TEST_F(LinkTest, LinkToADirectoryIsEperm) {
  ASSERT_OK(::mkdir(P("d").c_str(), 0755));
  EXPECT_ERRNO(EPERM, ::link(P("d").c_str(), P("e").c_str()));
  EXPECT_EQ(Stat(P("d")).st_nlink, 2u);
}

TEST_F(LinkTest, UnlinkedOpenFileStaysReadableUntilClosed) {
  WriteFile(P("f"), "still here");
  UniqueFd owned(::open(P("f").c_str(), O_RDWR | O_CLOEXEC));
  const int fd = owned.get();
  ASSERT_OK(fd);
  ASSERT_OK(::unlink(P("f").c_str()));
  EXPECT_FALSE(Exists(P("f")));
  struct stat st {};
  ASSERT_OK(::fstat(fd, &st));
  EXPECT_EQ(st.st_nlink, 0u);
  EXPECT_EQ(PreadFull(fd, 100, 0), "still here");
  PwriteFull(fd, "STILL", 0);
  EXPECT_EQ(PreadFull(fd, 100, 0), "STILL here");
  EXPECT_OK(::close(owned.release()));
  EXPECT_TRUE(ListDir(dir()).empty());
}

TEST_F(LinkTest, DirectoryLinkCountIsTwoPlusSubdirectories) {
  ASSERT_OK(::mkdir(P("d").c_str(), 0755));
  EXPECT_EQ(Stat(P("d")).st_nlink, 2u);
  const auto parent_links = Stat(dir()).st_nlink;
  EXPECT_EQ(parent_links, 3u);
  ASSERT_OK(::mkdir(P("d/a").c_str(), 0755));
  ASSERT_OK(::mkdir(P("d/b").c_str(), 0755));
  EXPECT_EQ(Stat(P("d")).st_nlink, 4u);
  // Files, symlinks and FIFOs do not count.
  WriteFile(P("d/file"), "");
  ASSERT_OK(::symlink("a", P("d/sym").c_str()));
  ASSERT_OK(::mkfifo(P("d/fifo").c_str(), 0644));
  EXPECT_EQ(Stat(P("d")).st_nlink, 4u);
  ASSERT_OK(::rmdir(P("d/a").c_str()));
  EXPECT_EQ(Stat(P("d")).st_nlink, 3u);
  ASSERT_OK(::rename(P("d/b").c_str(), P("b").c_str()));
  EXPECT_EQ(Stat(P("d")).st_nlink, 2u);
  EXPECT_EQ(Stat(dir()).st_nlink, 4u);
  EXPECT_EQ(Stat(P("b")).st_nlink, 2u);
}

TEST_F(LinkTest, SymlinkAndReadlinkKeepTheTargetBytesExactly) {
  const std::string targets[] = {"relative/target",        "/absolute/path",
                                 "../up/../and/back",      "does-not-exist",
                                 "with space and ünïcødé", std::string(1000, 't') + "/end",
                                 std::string(4000, 'x')};
  int i = 0;
  for (const auto& target : targets) {
    SCOPED_TRACE(target.substr(0, 40));
    const auto link = P("l" + std::to_string(i++));
    ASSERT_OK(::symlink(target.c_str(), link.c_str()));
    EXPECT_EQ(Readlink(link), target);
    const auto st = Lstat(link);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    EXPECT_EQ(st.st_size, static_cast<off_t>(target.size()));
    EXPECT_EQ(st.st_nlink, 1u);
  }
}

TEST_F(LinkTest, SymlinksAreFollowedByPathResolution) {
  ASSERT_OK(::mkdir(P("real").c_str(), 0755));
  WriteFile(P("real/f"), "through the link");
  ASSERT_OK(::symlink("real", P("rel").c_str()));
  ASSERT_OK(::symlink(P("real").c_str(), P("abs").c_str()));
  ASSERT_OK(::symlink("rel/f", P("chain").c_str()));
  EXPECT_EQ(ReadFile(P("rel/f")), "through the link");
  EXPECT_EQ(ReadFile(P("abs/f")), "through the link");
  EXPECT_EQ(ReadFile(P("chain")), "through the link");
  EXPECT_TRUE(S_ISDIR(Stat(P("rel")).st_mode));
  // Dangling and looping links.
  ASSERT_OK(::symlink("nowhere", P("dangling").c_str()));
  struct stat st {};
  EXPECT_ERRNO(ENOENT, ::stat(P("dangling").c_str(), &st));
  ASSERT_OK(::symlink("loop2", P("loop1").c_str()));
  ASSERT_OK(::symlink("loop1", P("loop2").c_str()));
  EXPECT_ERRNO(ELOOP, ::stat(P("loop1").c_str(), &st));
  // Removing a link leaves its target alone.
  ASSERT_OK(::unlink(P("rel").c_str()));
  EXPECT_EQ(ReadFile(P("real/f")), "through the link");
}

TEST_F(LinkTest, ReadlinkOfANonSymlinkIsEinval) {
  WriteFile(P("f"), "");
  ASSERT_OK(::mkdir(P("d").c_str(), 0755));
  char buf[64];
  EXPECT_ERRNO(EINVAL, ::readlink(P("f").c_str(), buf, sizeof buf));
  EXPECT_ERRNO(EINVAL, ::readlink(P("d").c_str(), buf, sizeof buf));
  EXPECT_ERRNO(ENOENT, ::readlink(P("missing").c_str(), buf, sizeof buf));
}

TEST_F(LinkTest, HardLinkToASymlinkLinksTheSymlinkItself) {
  ASSERT_OK(::symlink("target", P("s").c_str()));
  ASSERT_OK(::linkat(AT_FDCWD, P("s").c_str(), AT_FDCWD, P("s2").c_str(), 0));
  EXPECT_TRUE(S_ISLNK(Lstat(P("s2")).st_mode));
  EXPECT_EQ(Lstat(P("s")).st_nlink, 2u);
  EXPECT_EQ(Readlink(P("s2")), "target");
}

}  // namespace
}  // namespace sealfs::it
