// Extended attributes: set, get, list, remove, and their flags and errors.
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <set>
#include <string>

#include "file_util.h"
#include "fs_test.h"
#include "syscall_assertions.h"
#include "timespec_ops.h"

namespace sealfs::it {
namespace {

using XattrTest = PosixTest;

int Set(const std::filesystem::path& p, const std::string& name, const std::string& value,
        int flags = 0) {
  return ::setxattr(p.c_str(), name.c_str(), value.data(), value.size(), flags);
}

std::string Get(const std::filesystem::path& p, const std::string& name) {
  std::string buf(70000, '\0');
  const ssize_t n = ::getxattr(p.c_str(), name.c_str(), buf.data(), buf.size());
  if (n < 0) return "<getxattr failed: " + std::string(strerrorname_np(errno)) + ">";
  buf.resize(static_cast<size_t>(n));
  return buf;
}

std::set<std::string> List(const std::filesystem::path& p) {
  std::string buf(70000, '\0');
  const ssize_t n = ::listxattr(p.c_str(), buf.data(), buf.size());
  if (n < 0) return {"<listxattr failed: " + std::string(strerrorname_np(errno)) + ">"};
  std::set<std::string> names;
  for (size_t i = 0; i < static_cast<size_t>(n);) {
    const std::string name(buf.c_str() + i);
    // Only user.* names are ours; a file system may add security.* ones.
    if (name.starts_with("user.")) names.insert(name);
    i += name.size() + 1;
  }
  return names;
}

TEST_F(XattrTest, SetGetListRemove) {
  WriteFile(P("f"), "");
  EXPECT_TRUE(List(P("f")).empty());
  ASSERT_OK(Set(P("f"), "user.color", "blue"));
  ASSERT_OK(Set(P("f"), "user.empty", ""));
  const std::string binary("\0\x01\xff binary\0", 11);
  ASSERT_OK(Set(P("f"), "user.binary", binary));
  EXPECT_EQ(Get(P("f"), "user.color"), "blue");
  EXPECT_EQ(Get(P("f"), "user.empty"), "");
  EXPECT_EQ(Get(P("f"), "user.binary"), binary);
  EXPECT_EQ(List(P("f")), (std::set<std::string>{"user.color", "user.empty", "user.binary"}));

  ASSERT_OK(Set(P("f"), "user.color", "a much longer value than before"));
  EXPECT_EQ(Get(P("f"), "user.color"), "a much longer value than before");
  ASSERT_OK(Set(P("f"), "user.color", "red"));
  EXPECT_EQ(Get(P("f"), "user.color"), "red");

  ASSERT_OK(::removexattr(P("f").c_str(), "user.color"));
  EXPECT_EQ(List(P("f")), (std::set<std::string>{"user.empty", "user.binary"}));
  char buf[8];
  EXPECT_ERRNO(ENODATA, ::getxattr(P("f").c_str(), "user.color", buf, sizeof buf));
}

TEST_F(XattrTest, SizeQueriesAndTooSmallBuffers) {
  WriteFile(P("f"), "");
  ASSERT_OK(Set(P("f"), "user.k", "0123456789"));
  EXPECT_EQ(::getxattr(P("f").c_str(), "user.k", nullptr, 0), 10);
  char small[4];
  EXPECT_ERRNO(ERANGE, ::getxattr(P("f").c_str(), "user.k", small, sizeof small));
  EXPECT_GE(::listxattr(P("f").c_str(), nullptr, 0), 7);
  EXPECT_ERRNO(ERANGE, ::listxattr(P("f").c_str(), small, 2));
}

TEST_F(XattrTest, CreateAndReplaceFlags) {
  WriteFile(P("f"), "");
  ASSERT_OK(Set(P("f"), "user.a", "1", XATTR_CREATE));
  EXPECT_ERRNO(EEXIST, Set(P("f"), "user.a", "2", XATTR_CREATE));
  EXPECT_EQ(Get(P("f"), "user.a"), "1");
  EXPECT_ERRNO(ENODATA, Set(P("f"), "user.b", "2", XATTR_REPLACE));
  EXPECT_EQ(List(P("f")), std::set<std::string>{"user.a"});
  ASSERT_OK(Set(P("f"), "user.a", "3", XATTR_REPLACE));
  EXPECT_EQ(Get(P("f"), "user.a"), "3");
}

TEST_F(XattrTest, MissingAttributesAreEnodata) {
  WriteFile(P("f"), "");
  char buf[8];
  EXPECT_ERRNO(ENODATA, ::getxattr(P("f").c_str(), "user.none", buf, sizeof buf));
  EXPECT_ERRNO(ENODATA, ::getxattr(P("f").c_str(), "user.none", nullptr, 0));
  EXPECT_ERRNO(ENODATA, ::removexattr(P("f").c_str(), "user.none"));
}

TEST_F(XattrTest, DirectoriesAndLargeValuesAndManyNames) {
  ASSERT_OK(::mkdir(P("d").c_str(), 0755));
  ASSERT_OK(Set(P("d"), "user.on-dir", "yes"));
  EXPECT_EQ(Get(P("d"), "user.on-dir"), "yes");

  WriteFile(P("f"), "");
  const std::string large(3000, 'L');
  ASSERT_OK(Set(P("f"), "user.large", large));
  EXPECT_EQ(Get(P("f"), "user.large"), large);
  std::set<std::string> expected = {"user.large"};
  for (int i = 0; i < 20; ++i) {
    const auto name = "user.n" + std::to_string(i);
    ASSERT_OK(Set(P("f"), name, std::to_string(i)));
    expected.insert(name);
  }
  EXPECT_EQ(List(P("f")), expected);
}

TEST_F(XattrTest, AttributesBelongToTheInodeNotTheName) {
  WriteFile(P("f"), "");
  ASSERT_OK(Set(P("f"), "user.tag", "kept"));
  ASSERT_OK(::link(P("f").c_str(), P("g").c_str()));
  EXPECT_EQ(Get(P("g"), "user.tag"), "kept");
  ASSERT_OK(::rename(P("f").c_str(), P("h").c_str()));
  EXPECT_EQ(Get(P("h"), "user.tag"), "kept");
  // A new file under an old name starts without attributes.
  ASSERT_OK(::unlink(P("h").c_str()));
  ASSERT_OK(::unlink(P("g").c_str()));
  WriteFile(P("f"), "");
  EXPECT_TRUE(List(P("f")).empty());
}

TEST_F(XattrTest, ChangingAnAttributeUpdatesCtime) {
  WriteFile(P("f"), "");
  const auto before = Stat(P("f"));
  usleep(30000);
  ASSERT_OK(Set(P("f"), "user.t", "v"));
  const auto after = Stat(P("f"));
  EXPECT_LT(before.st_ctim, after.st_ctim) << "setxattr did not update ctime";
  EXPECT_EQ(before.st_mtim, after.st_mtim) << "setxattr changed mtime";
}

}  // namespace
}  // namespace sealfs::it
