// Creating, looking up and removing names: create, mknod, mkdir, rmdir, unlink, lookup, and
// the errno of each way these can fail.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "file_util.h"
#include "fs_test.h"
#include "syscall_assertions.h"
#include "unique_fd.h"

namespace sealfs::it {
namespace {

using NamespaceTest = PosixTest;

TEST_F(NamespaceTest, LookupFindsCreatedEntriesAndNothingElse) {
  WriteFile(P("file"), "x");
  ASSERT_OK(::mkdir(P("dir").c_str(), 0755));
  struct stat st {};
  EXPECT_OK(::stat(P("file").c_str(), &st));
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_OK(::stat(P("dir").c_str(), &st));
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_ERRNO(ENOENT, ::stat(P("missing").c_str(), &st));
  EXPECT_ERRNO(ENOENT, ::stat(P("dir/missing").c_str(), &st));
  // Names differ by case and by a trailing byte: no prefix or case-insensitive matching.
  EXPECT_ERRNO(ENOENT, ::stat(P("File").c_str(), &st));
  EXPECT_ERRNO(ENOENT, ::stat(P("fil").c_str(), &st));
  EXPECT_ERRNO(ENOENT, ::stat(P("file2").c_str(), &st));
}

TEST_F(NamespaceTest, CreateMakesAnEmptyRegularFileOwnedByTheCaller) {
  UniqueFd fd(::open(P("new").c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0640));
  ASSERT_OK(fd.get());
  const auto st = Stat(P("new"));
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_size, 0);
  EXPECT_EQ(st.st_nlink, 1u);
  EXPECT_EQ(st.st_uid, ::geteuid());
  EXPECT_EQ(st.st_gid, ::getegid());
  struct stat via_fd {};
  ASSERT_OK(::fstat(fd.get(), &via_fd));
  EXPECT_EQ(via_fd.st_ino, st.st_ino);
  EXPECT_OK(::close(fd.release()));
}

TEST_F(NamespaceTest, CreateAppliesTheUmask) {
  const mode_t old = ::umask(027);
  const int fd = ::open(P("masked").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
  const int err = errno;
  ::umask(old);
  errno = err;
  ASSERT_OK(fd);
  ::close(fd);
  EXPECT_EQ(Stat(P("masked")).st_mode & 07777, 0640u);
}

TEST_F(NamespaceTest, InodeNumbersAreDistinctAndStable) {
  WriteFile(P("a"), "");
  WriteFile(P("b"), "");
  ASSERT_OK(::mkdir(P("c").c_str(), 0755));
  const auto a = Stat(P("a")).st_ino;
  EXPECT_NE(a, Stat(P("b")).st_ino);
  EXPECT_NE(a, Stat(P("c")).st_ino);
  EXPECT_NE(Stat(P("b")).st_ino, Stat(P("c")).st_ino);
  EXPECT_EQ(a, Stat(P("a")).st_ino);
  EXPECT_EQ(Stat(dir()).st_ino, Stat(P("c/..")).st_ino);
}

TEST_F(NamespaceTest, MknodMakesRegularFilesAndFifos) {
  ASSERT_OK(::mknod(P("reg").c_str(), S_IFREG | 0600, 0));
  const auto reg = Stat(P("reg"));
  EXPECT_TRUE(S_ISREG(reg.st_mode));
  EXPECT_EQ(reg.st_mode & 07777, 0600u);
  EXPECT_EQ(reg.st_size, 0);

  ASSERT_OK(::mknod(P("fifo").c_str(), S_IFIFO | 0644, 0));
  EXPECT_TRUE(S_ISFIFO(Lstat(P("fifo")).st_mode));
  ASSERT_OK(::mkfifo(P("fifo2").c_str(), 0600));
  EXPECT_TRUE(S_ISFIFO(Lstat(P("fifo2")).st_mode));

  // A FIFO on the file system is a working pipe (O_RDWR does not block on Linux).
  UniqueFd fd(::open(P("fifo").c_str(), O_RDWR | O_CLOEXEC));
  ASSERT_OK(fd.get());
  EXPECT_EQ(::write(fd.get(), "ping", 4), 4);
  char buf[8] = {};
  EXPECT_EQ(::read(fd.get(), buf, sizeof buf), 4);
  EXPECT_STREQ(buf, "ping");
}

TEST_F(NamespaceTest, MkdirAndRmdir) {
  ASSERT_OK(::mkdir(P("d").c_str(), 0750));
  const auto st = Stat(P("d"));
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(st.st_uid, ::geteuid());
  ASSERT_OK(::mkdir(P("d/e").c_str(), 0755));
  ASSERT_OK(::mkdir(P("d/e/f").c_str(), 0755));
  EXPECT_OK(::rmdir(P("d/e/f").c_str()));
  EXPECT_OK(::rmdir(P("d/e").c_str()));
  EXPECT_OK(::rmdir(P("d").c_str()));
  EXPECT_FALSE(Exists(P("d")));
  EXPECT_TRUE(ListDir(dir()).empty());
}

TEST_F(NamespaceTest, UnlinkRemovesTheNameAndTheFile) {
  WriteFile(P("f"), "data");
  EXPECT_OK(::unlink(P("f").c_str()));
  EXPECT_FALSE(Exists(P("f")));
  EXPECT_TRUE(ListDir(dir()).empty());
  // The name can be reused at once and starts empty.
  WriteFile(P("f"), "");
  EXPECT_EQ(ReadFile(P("f")), "");
}

TEST_F(NamespaceTest, EnoentForMissingNamesAndMissingParents) {
  struct stat st {};
  EXPECT_ERRNO(ENOENT, ::open(P("nope").c_str(), O_RDONLY));
  EXPECT_ERRNO(ENOENT, ::unlink(P("nope").c_str()));
  EXPECT_ERRNO(ENOENT, ::rmdir(P("nope").c_str()));
  EXPECT_ERRNO(ENOENT, ::open(P("nodir/f").c_str(), O_CREAT | O_WRONLY, 0644));
  EXPECT_ERRNO(ENOENT, ::mkdir(P("nodir/d").c_str(), 0755));
  EXPECT_ERRNO(ENOENT, ::rename(P("nope").c_str(), P("other").c_str()));
  EXPECT_ERRNO(ENOENT, ::link(P("nope").c_str(), P("other").c_str()));
  EXPECT_ERRNO(ENOENT, ::chmod(P("nope").c_str(), 0644));
  EXPECT_ERRNO(ENOENT, ::truncate(P("nope").c_str(), 0));
  EXPECT_ERRNO(ENOENT, ::lstat(P("nope").c_str(), &st));
}

TEST_F(NamespaceTest, EexistForTakenNames) {
  WriteFile(P("f"), "");
  ASSERT_OK(::mkdir(P("d").c_str(), 0755));
  for (const char* name : {"f", "d"}) {
    SCOPED_TRACE(name);
    EXPECT_ERRNO(EEXIST, ::mkdir(P(name).c_str(), 0755));
    EXPECT_ERRNO(EEXIST, ::open(P(name).c_str(), O_CREAT | O_EXCL | O_RDONLY, 0644));
    EXPECT_ERRNO(EEXIST, ::mknod(P(name).c_str(), S_IFREG | 0644, 0));
    EXPECT_ERRNO(EEXIST, ::mkfifo(P(name).c_str(), 0644));
    EXPECT_ERRNO(EEXIST, ::symlink("target", P(name).c_str()));
  }
  WriteFile(P("g"), "");
  EXPECT_ERRNO(EEXIST, ::link(P("g").c_str(), P("f").c_str()));
  // The failed calls changed nothing.
  EXPECT_TRUE(S_ISREG(Lstat(P("f")).st_mode));
  EXPECT_TRUE(S_ISDIR(Lstat(P("d")).st_mode));
}

TEST_F(NamespaceTest, EnotemptyForRmdirOfNonEmptyDirectory) {
  ASSERT_OK(::mkdir(P("d").c_str(), 0755));
  WriteFile(P("d/f"), "");
  EXPECT_ERRNO(ENOTEMPTY, ::rmdir(P("d").c_str()));
  ASSERT_OK(::mkdir(P("e").c_str(), 0755));
  ASSERT_OK(::mkdir(P("e/sub").c_str(), 0755));
  EXPECT_ERRNO(ENOTEMPTY, ::rmdir(P("e").c_str()));
  EXPECT_TRUE(Exists(P("d/f")));
  EXPECT_TRUE(Exists(P("e/sub")));
}

TEST_F(NamespaceTest, EisdirForFileOperationsOnDirectories) {
  ASSERT_OK(::mkdir(P("d").c_str(), 0755));
  EXPECT_ERRNO(EISDIR, ::open(P("d").c_str(), O_WRONLY));
  EXPECT_ERRNO(EISDIR, ::open(P("d").c_str(), O_RDWR));
  EXPECT_ERRNO(EISDIR, ::unlink(P("d").c_str()));
  EXPECT_ERRNO(EISDIR, ::truncate(P("d").c_str(), 0));
  UniqueFd fd(::open(P("d").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_OK(fd.get());
  char c;
  EXPECT_ERRNO(EISDIR, ::read(fd.get(), &c, 1));
}

TEST_F(NamespaceTest, EnotdirWhenAFileIsUsedAsADirectory) {
  WriteFile(P("f"), "");
  struct stat st {};
  EXPECT_ERRNO(ENOTDIR, ::rmdir(P("f").c_str()));
  EXPECT_ERRNO(ENOTDIR, ::stat(P("f/x").c_str(), &st));
  EXPECT_ERRNO(ENOTDIR, ::mkdir(P("f/x").c_str(), 0755));
  EXPECT_ERRNO(ENOTDIR, ::open(P("f/x").c_str(), O_CREAT | O_WRONLY, 0644));
  EXPECT_ERRNO(ENOTDIR, ::open(P("f").c_str(), O_RDONLY | O_DIRECTORY));
}

TEST_F(NamespaceTest, EinvalForRmdirOfDot) {
  ASSERT_OK(::mkdir(P("d").c_str(), 0755));
  EXPECT_ERRNO(EINVAL, ::rmdir(P("d/.").c_str()));
  EXPECT_TRUE(Exists(P("d")));
}

TEST_F(NamespaceTest, NamesUpTo255BytesWorkAnd256AreTooLong) {
  const std::string longest(255, 'n');
  const std::string too_long(256, 'n');
  WriteFile(P(longest), "ok");
  EXPECT_EQ(ReadFile(P(longest)), "ok");
  EXPECT_OK(::unlink(P(longest).c_str()));
  ASSERT_OK(::mkdir(P(longest).c_str(), 0755));
  EXPECT_OK(::rmdir(P(longest).c_str()));

  struct stat st {};
  WriteFile(P("short"), "");
  EXPECT_ERRNO(ENAMETOOLONG, ::open(P(too_long).c_str(), O_CREAT | O_WRONLY, 0644));
  EXPECT_ERRNO(ENAMETOOLONG, ::mkdir(P(too_long).c_str(), 0755));
  EXPECT_ERRNO(ENAMETOOLONG, ::mknod(P(too_long).c_str(), S_IFREG | 0644, 0));
  EXPECT_ERRNO(ENAMETOOLONG, ::symlink("t", P(too_long).c_str()));
  EXPECT_ERRNO(ENAMETOOLONG, ::link(P("short").c_str(), P(too_long).c_str()));
  EXPECT_ERRNO(ENAMETOOLONG, ::rename(P("short").c_str(), P(too_long).c_str()));
  EXPECT_ERRNO(ENAMETOOLONG, ::stat(P(too_long).c_str(), &st));
  EXPECT_EQ(ListDir(dir()), std::vector<std::string>{"short"});
}

TEST_F(NamespaceTest, NamesWithUnusualBytes) {
  for (const std::string name : {"with space", "ünïcødé", "tab\there", "new\nline", "-dash",
                                 ".hidden", "..dots", "a\\b", "\x01\x7f\xff"}) {
    SCOPED_TRACE(name);
    WriteFile(P(name), name);
    EXPECT_EQ(ReadFile(P(name)), name);
  }
  EXPECT_EQ(ListDir(dir()).size(), 9u);
}

}  // namespace
}  // namespace sealfs::it
