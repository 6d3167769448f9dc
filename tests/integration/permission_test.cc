// Permission checks and ownership for an unprivileged caller (mounts run with
// default_permissions,allow_other, so the kernel checks modes against the attributes the
// servers return). Each check runs in a child that switched to kTestUid/kTestGid.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string>

#include "file_util.h"
#include "fs_test.h"
#include "run_as.h"
#include "syscall_assertions.h"

namespace sealfs::it {
namespace {

using PermissionTest = PosixTest;

int OpenAs(const std::filesystem::path& p, int flags) {
  return RunAs(kTestUid, kTestGid, [&] {
    const int fd = ::open(p.c_str(), flags, 0644);
    if (fd < 0) return errno;
    ::close(fd);
    return 0;
  });
}

TEST_F(PermissionTest, FileModeBitsGateReadAndWrite) {
  WriteFile(P("private"), "secret", 0600);
  WriteFile(P("readable"), "public", 0644);
  WriteFile(P("group"), "group", 0640);
  ASSERT_OK(::chown(P("group").c_str(), 0, kTestGid));
  WriteFile(P("mine"), "mine", 0600);
  ASSERT_OK(::chown(P("mine").c_str(), kTestUid, kTestGid));

  EXPECT_EQ(OpenAs(P("private"), O_RDONLY), EACCES);
  EXPECT_EQ(OpenAs(P("private"), O_WRONLY), EACCES);
  EXPECT_EQ(OpenAs(P("readable"), O_RDONLY), 0);
  EXPECT_EQ(OpenAs(P("readable"), O_WRONLY), EACCES);
  EXPECT_EQ(OpenAs(P("group"), O_RDONLY), 0);
  EXPECT_EQ(OpenAs(P("group"), O_RDWR), EACCES);
  EXPECT_EQ(OpenAs(P("mine"), O_RDWR), 0);
  // Root was not locked out by any of this.
  EXPECT_EQ(ReadFile(P("private")), "secret");
}

TEST_F(PermissionTest, DirectoryWriteAndSearchBitsGateNamespaceChanges) {
  ASSERT_OK(::mkdir(P("closed").c_str(), 0755));
  WriteFile(P("closed/f"), "x");
  ASSERT_OK(::chmod(P("closed/f").c_str(), 0666));
  EXPECT_EQ(OpenAs(P("closed/new"), O_CREAT | O_WRONLY), EACCES);
  EXPECT_EQ(
      RunAs(kTestUid, kTestGid, [&] { return ErrnoOf(::mkdir(P("closed/d").c_str(), 0755)); }),
      EACCES);
  EXPECT_EQ(RunAs(kTestUid, kTestGid, [&] { return ErrnoOf(::unlink(P("closed/f").c_str())); }),
            EACCES);
  EXPECT_EQ(RunAs(kTestUid, kTestGid,
                  [&] { return ErrnoOf(::rename(P("closed/f").c_str(), P("closed/g").c_str())); }),
            EACCES);
  // Writing the file itself is allowed by its own mode.
  EXPECT_EQ(OpenAs(P("closed/f"), O_WRONLY), 0);

  ASSERT_OK(::mkdir(P("nosearch").c_str(), 0700));
  WriteFile(P("nosearch/f"), "x", 0644);
  EXPECT_EQ(RunAs(kTestUid, kTestGid,
                  [&] {
                    struct stat st;
                    return ErrnoOf(::stat(P("nosearch/f").c_str(), &st));
                  }),
            EACCES);
  EXPECT_EQ(OpenAs(P("nosearch"), O_RDONLY | O_DIRECTORY), EACCES);
  EXPECT_TRUE(Exists(P("closed/f")));
}

TEST_F(PermissionTest, NewEntriesAreOwnedByTheCaller) {
  ASSERT_OK(::mkdir(P("open").c_str(), 0777));
  ASSERT_OK(::chmod(P("open").c_str(), 0777));
  EXPECT_EQ(OpenAs(P("open/file"), O_CREAT | O_EXCL | O_WRONLY), 0);
  EXPECT_EQ(
      RunAs(kTestUid, kTestGid, [&] { return ErrnoOf(::mkdir(P("open/dir").c_str(), 0755)); }), 0);
  EXPECT_EQ(
      RunAs(kTestUid, kTestGid, [&] { return ErrnoOf(::symlink("t", P("open/link").c_str())); }),
      0);
  for (const char* name : {"open/file", "open/dir", "open/link"}) {
    SCOPED_TRACE(name);
    const auto st = Lstat(P(name));
    EXPECT_EQ(st.st_uid, kTestUid);
    EXPECT_EQ(st.st_gid, kTestGid);
  }
  // The owner may then remove its own entries.
  EXPECT_EQ(RunAs(kTestUid, kTestGid, [&] { return ErrnoOf(::unlink(P("open/file").c_str())); }),
            0);
  EXPECT_EQ(RunAs(kTestUid, kTestGid, [&] { return ErrnoOf(::rmdir(P("open/dir").c_str())); }), 0);
}

TEST_F(PermissionTest, OnlyTheOwnerMayChmodAndOnlyRootMayChown) {
  WriteFile(P("roots"), "");
  ASSERT_OK(::chmod(P("roots").c_str(), 0666));
  WriteFile(P("users"), "", 0644);
  ASSERT_OK(::chown(P("users").c_str(), kTestUid, kTestGid));
  EXPECT_EQ(RunAs(kTestUid, kTestGid, [&] { return ErrnoOf(::chmod(P("roots").c_str(), 0777)); }),
            EPERM);
  EXPECT_EQ(RunAs(kTestUid, kTestGid, [&] { return ErrnoOf(::chmod(P("users").c_str(), 0600)); }),
            0);
  EXPECT_EQ(Stat(P("users")).st_mode & 07777, 0600u);
  EXPECT_EQ(RunAs(kTestUid, kTestGid, [&] { return ErrnoOf(::chown(P("users").c_str(), 0, 0)); }),
            EPERM);
  EXPECT_EQ(Stat(P("users")).st_uid, kTestUid);
  // Setting explicit times needs ownership too; write permission is enough for "now".
  const timespec times[2] = {{1, 0}, {1, 0}};
  EXPECT_EQ(RunAs(kTestUid, kTestGid,
                  [&] { return ErrnoOf(::utimensat(AT_FDCWD, P("roots").c_str(), times, 0)); }),
            EPERM);
  EXPECT_EQ(RunAs(kTestUid, kTestGid,
                  [&] { return ErrnoOf(::utimensat(AT_FDCWD, P("roots").c_str(), nullptr, 0)); }),
            0);
}

TEST_F(PermissionTest, SetgidDirectoryPassesItsGroupOn) {
  constexpr gid_t kGroup = 5555;
  ASSERT_OK(::mkdir(P("shared").c_str(), 0755));
  ASSERT_OK(::chown(P("shared").c_str(), 0, kGroup));
  ASSERT_OK(::chmod(P("shared").c_str(), 02777));
  WriteFile(P("shared/by-root"), "");
  EXPECT_EQ(RunAs(kTestUid, kTestGid,
                  [&] { return ErrnoOf(::mknod(P("shared/by-user").c_str(), S_IFREG | 0644, 0)); }),
            0);
  ASSERT_OK(::mkdir(P("shared/sub").c_str(), 0755));
  EXPECT_EQ(Stat(P("shared/by-root")).st_gid, kGroup);
  EXPECT_EQ(Stat(P("shared/by-user")).st_gid, kGroup);
  EXPECT_EQ(Stat(P("shared/by-user")).st_uid, kTestUid);
  EXPECT_EQ(Stat(P("shared/sub")).st_gid, kGroup);
  EXPECT_TRUE(Stat(P("shared/sub")).st_mode & S_ISGID) << "a new subdirectory keeps setgid";
}

TEST_F(PermissionTest, WritingOrChowningClearsSetuid) {
  WriteFile(P("f"), "x");
  ASSERT_OK(::chown(P("f").c_str(), kTestUid, kTestGid));
  ASSERT_OK(::chmod(P("f").c_str(), 04755));
  EXPECT_EQ(RunAs(kTestUid, kTestGid,
                  [&] {
                    const int fd = ::open(P("f").c_str(), O_WRONLY);
                    if (fd < 0) return errno;
                    const int err = ::write(fd, "y", 1) == 1 ? 0 : errno;
                    ::close(fd);
                    return err;
                  }),
            0);
  EXPECT_EQ(Stat(P("f")).st_mode & 07777, 0755u) << "a write by the owner keeps setuid";

  ASSERT_OK(::chmod(P("f").c_str(), 04755));
  ASSERT_OK(::chown(P("f").c_str(), 0, 0));
  EXPECT_EQ(Stat(P("f")).st_mode & 07777, 0755u) << "chown keeps setuid";
}

TEST_F(PermissionTest, StickyDirectoryProtectsOtherUsersEntries) {
  ASSERT_OK(::mkdir(P("tmp").c_str(), 0777));
  ASSERT_OK(::chmod(P("tmp").c_str(), 01777));
  WriteFile(P("tmp/roots"), "");
  ASSERT_OK(::chmod(P("tmp/roots").c_str(), 0666));
  EXPECT_EQ(RunAs(kTestUid, kTestGid, [&] { return ErrnoOf(::unlink(P("tmp/roots").c_str())); }),
            EPERM);
  EXPECT_TRUE(Exists(P("tmp/roots")));
}

TEST_F(PermissionTest, UserXattrsNeedWritePermission) {
  WriteFile(P("f"), "", 0644);
  EXPECT_EQ(RunAs(kTestUid, kTestGid,
                  [&] { return ErrnoOf(::setxattr(P("f").c_str(), "user.x", "v", 1, 0)); }),
            EACCES);
  ASSERT_OK(::setxattr(P("f").c_str(), "user.x", "v", 1, 0));
  char buf[4];
  EXPECT_EQ(RunAs(kTestUid, kTestGid,
                  [&] { return ErrnoOf(::getxattr(P("f").c_str(), "user.x", buf, sizeof buf)); }),
            0);
}

}  // namespace
}  // namespace sealfs::it
