// The metadata engine on a real LevelDB in a temporary directory, with a
// one-server cluster (its data fan-out stays in-process).
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <set>
#include <thread>

#include "server_core.h"
#include "temp_dir.h"

namespace sealfs {
namespace {

constexpr ServerId kSelf = 1;
const Ino kRoot = MakeIno(kSelf, kRootLocal);

class NamespaceServiceTest : public ::testing::Test {
 protected:
  NamespaceServiceTest() {
    config_.version = 1;
    config_.chunk_size = 64 << 10;
    config_.servers.push_back({.id = kSelf, .address = "127.0.0.1", .port = 1});
    config_.root_server = kSelf;
    Open();
  }
  ~NamespaceServiceTest() override { Close(); }

  void Open() {
    meta_ = std::move(*MetaStore::Open(dir_.path() + "/meta", kSelf));
    chunks_ = std::move(*ChunkStore::Open(dir_.path() + "/chunks", config_.chunk_size));
    core_ =
        std::make_unique<ServerCore>(StartingMembership{config_, MakeMembership(config_, nullptr)},
                                     kSelf, meta_.get(), chunks_.get(), std::chrono::seconds(1));
    ns_ = &core_->ns;
    ASSERT_TRUE(ns_->EnsureRoot(kRoot).ok());
  }
  void Close() {
    ns_ = nullptr;
    core_.reset();
    chunks_.reset();
    meta_.reset();
  }

  Entry Make(Ino parent, const std::string& name, uint32_t mode, int expect_err = 0) {
    MknodReq q{.parent = parent, .name = name, .mode = mode, .uid = 1000, .gid = 100};
    Entry e;
    Status s = ns_->Mknod(q, &e);
    EXPECT_EQ(s.err(), expect_err) << name << ": " << s.ToString();
    return e;
  }
  int Unlink(Ino parent, const std::string& name, uint8_t flags = 0) {
    UnlinkResp r;
    return ns_->Unlink({.parent = parent, .name = name, .flags = flags}, &r).err();
  }
  int Rename(Ino sp, const std::string& sn, Ino dp, const std::string& dn, uint32_t flags = 0) {
    UnlinkResp r;
    return ns_
        ->Rename(
            {.src_parent = sp, .src_name = sn, .dst_parent = dp, .dst_name = dn, .flags = flags},
            &r)
        .err();
  }
  Attr Get(Ino ino) {
    Attr a;
    EXPECT_TRUE(ns_->Getattr(ino, &a).ok());
    return a;
  }
  int LookupErr(Ino parent, const std::string& name) {
    Entry e;
    return ns_->Lookup({parent, name}, &e).err();
  }
  std::set<std::string> List(Ino dir) {
    std::set<std::string> names;
    uint64_t cookie = 2;
    for (;;) {
      ReaddirResp r;
      EXPECT_TRUE(
          ns_->Readdir({.dir = dir, .cookie = cookie, .max_entries = 7, .plus = 1}, &r).ok());
      for (auto& d : r.entries) {
        EXPECT_TRUE(names.insert(d.name).second) << "duplicate " << d.name;
        cookie = d.next_cookie;
      }
      if (r.eof) break;
    }
    return names;
  }

  testing::TempDir dir_;
  ClusterConfig config_;
  std::unique_ptr<MetaStore> meta_;
  std::unique_ptr<ChunkStore> chunks_;
  std::unique_ptr<ServerCore> core_;
  NamespaceService* ns_ = nullptr;
};

TEST_F(NamespaceServiceTest, CreateLookupAndParentTimes) {
  Attr before = Get(kRoot);
  Entry f = Make(kRoot, "file", S_IFREG | 0640);
  EXPECT_EQ(HomeOf(f.ino), kSelf);
  EXPECT_EQ(f.attr.uid, 1000u);
  EXPECT_EQ(f.attr.nlink, 1u);
  Entry e;
  ASSERT_TRUE(ns_->Lookup({kRoot, "file"}, &e).ok());
  EXPECT_EQ(e.ino, f.ino);
  EXPECT_TRUE(e.has_attr);
  Attr after = Get(kRoot);
  EXPECT_GT(after.mtime_ns, before.mtime_ns);
  EXPECT_EQ(after.nlink, 2u) << "files do not count in a directory's nlink";
  Make(kRoot, "file", S_IFREG | 0640, EEXIST);
}

TEST_F(NamespaceServiceTest, NameErrors) {
  Make(kRoot, std::string(256, 'a'), S_IFREG, ENAMETOOLONG);
  Make(kRoot, std::string(255, 'a'), S_IFREG);
  Make(kRoot, "a/b", S_IFREG, EINVAL);
  EXPECT_EQ(LookupErr(kRoot, "missing"), ENOENT);
  Entry f = Make(kRoot, "f", S_IFREG);
  EXPECT_EQ(LookupErr(f.ino, "x"), ENOTDIR);
  Make(f.ino, "x", S_IFREG, ENOTDIR);
}

TEST_F(NamespaceServiceTest, DirectoryNlinkAndRmdir) {
  Entry d = Make(kRoot, "d", S_IFDIR | 0755);
  EXPECT_EQ(d.attr.nlink, 2u);
  EXPECT_EQ(Get(kRoot).nlink, 3u);
  Make(d.ino, "sub", S_IFDIR | 0755);
  EXPECT_EQ(Get(d.ino).nlink, 3u);
  EXPECT_EQ(Unlink(kRoot, "d", kUnlinkDir), ENOTEMPTY);
  EXPECT_EQ(Unlink(kRoot, "d"), EISDIR);
  EXPECT_EQ(Unlink(d.ino, "sub", kUnlinkDir), 0);
  EXPECT_EQ(Unlink(kRoot, "d", kUnlinkDir), 0);
  EXPECT_EQ(Get(kRoot).nlink, 2u);
  Make(kRoot, "f", S_IFREG);
  EXPECT_EQ(Unlink(kRoot, "f", kUnlinkDir), ENOTDIR);
}

TEST_F(NamespaceServiceTest, HardLinksCountAndSurviveUnlink) {
  Entry f = Make(kRoot, "f", S_IFREG | 0600);
  Entry l;
  ASSERT_TRUE(ns_->Link({.ino = f.ino, .new_parent = kRoot, .new_name = "g"}, &l).ok());
  EXPECT_EQ(l.attr.nlink, 2u);
  EXPECT_EQ(ns_->Link({.ino = f.ino, .new_parent = kRoot, .new_name = "g"}, &l).err(), EEXIST);
  Entry d = Make(kRoot, "d", S_IFDIR | 0700);
  EXPECT_EQ(ns_->Link({.ino = d.ino, .new_parent = kRoot, .new_name = "d2"}, &l).err(), EPERM);
  EXPECT_EQ(Unlink(kRoot, "f"), 0);
  EXPECT_EQ(Get(f.ino).nlink, 1u);
  EXPECT_EQ(Unlink(kRoot, "g"), 0);
  Attr a;
  EXPECT_EQ(ns_->Getattr(f.ino, &a).err(), ENOENT);
}

TEST_F(NamespaceServiceTest, RenameRules) {
  Entry a = Make(kRoot, "a", S_IFDIR | 0755);
  Entry b = Make(kRoot, "b", S_IFDIR | 0755);
  Entry f = Make(a.ino, "f", S_IFREG | 0644);
  Make(b.ino, "g", S_IFREG | 0644);
  EXPECT_EQ(Rename(a.ino, "f", b.ino, "g", RENAME_NOREPLACE), EEXIST);
  EXPECT_EQ(Rename(a.ino, "f", b.ino, "g"), 0);  // replaces g
  EXPECT_EQ(LookupErr(a.ino, "f"), ENOENT);
  Entry e;
  ASSERT_TRUE(ns_->Lookup({b.ino, "g"}, &e).ok());
  EXPECT_EQ(e.ino, f.ino);
  // Directories: into its own subtree, onto a file, onto a non-empty directory.
  Entry sub = Make(a.ino, "sub", S_IFDIR | 0755);
  EXPECT_EQ(Rename(kRoot, "a", sub.ino, "x"), EINVAL);
  EXPECT_EQ(Rename(kRoot, "a", a.ino, "x"), EINVAL);
  EXPECT_EQ(Rename(kRoot, "a", b.ino, "g"), ENOTDIR);
  EXPECT_EQ(Rename(b.ino, "g", kRoot, "a"), EISDIR);
  Make(kRoot, "full", S_IFDIR | 0755);
  Entry full;
  ASSERT_TRUE(ns_->Lookup({kRoot, "full"}, &full).ok());
  Make(full.ino, "x", S_IFREG);
  EXPECT_EQ(Rename(kRoot, "a", kRoot, "full"), ENOTEMPTY);
  // Moving a directory moves a link between the parents' counts.
  EXPECT_EQ(Get(b.ino).nlink, 2u);
  EXPECT_EQ(Rename(a.ino, "sub", b.ino, "sub"), 0);
  EXPECT_EQ(Get(b.ino).nlink, 3u);
  EXPECT_EQ(Get(a.ino).nlink, 2u);
  EXPECT_EQ(Get(sub.ino).parent, b.ino);
  EXPECT_EQ(Rename(kRoot, "nothing", kRoot, "x"), ENOENT);
  EXPECT_EQ(Rename(kRoot, "a", kRoot, "a"), 0);
}

TEST_F(NamespaceServiceTest, ReaddirCookiesAreStableUnderChanges) {
  for (int i = 0; i < 50; ++i) Make(kRoot, "f" + std::to_string(i), S_IFREG);
  ReaddirResp first;
  ASSERT_TRUE(ns_->Readdir({.dir = kRoot, .cookie = 2, .max_entries = 10}, &first).ok());
  ASSERT_EQ(first.entries.size(), 10u);
  EXPECT_FALSE(first.eof);
  // Entries removed or added behind the cursor do not shift what follows.
  EXPECT_EQ(Unlink(kRoot, first.entries[0].name), 0);
  Make(kRoot, "late", S_IFREG);
  std::set<std::string> rest;
  uint64_t cookie = first.entries.back().next_cookie;
  for (;;) {
    ReaddirResp r;
    ASSERT_TRUE(ns_->Readdir({.dir = kRoot, .cookie = cookie, .max_entries = 10}, &r).ok());
    for (auto& d : r.entries) rest.insert(d.name), cookie = d.next_cookie;
    if (r.eof) break;
  }
  EXPECT_EQ(rest.size(), 41u);  // 40 old ones after the cursor + "late"
  EXPECT_TRUE(rest.count("late"));
  EXPECT_EQ(List(kRoot).size(), 50u);
}

TEST_F(NamespaceServiceTest, Xattrs) {
  Entry f = Make(kRoot, "f", S_IFREG);
  EXPECT_EQ(
      ns_->SetXattr({.ino = f.ino, .name = "user.a", .value = "1", .flags = XATTR_REPLACE}).err(),
      ENODATA);
  EXPECT_TRUE(
      ns_->SetXattr({.ino = f.ino, .name = "user.a", .value = "1", .flags = XATTR_CREATE}).ok());
  EXPECT_EQ(
      ns_->SetXattr({.ino = f.ino, .name = "user.a", .value = "2", .flags = XATTR_CREATE}).err(),
      EEXIST);
  EXPECT_TRUE(ns_->SetXattr({.ino = f.ino, .name = "user.b", .value = std::string(100, 'v')}).ok());
  std::string v, names;
  ASSERT_TRUE(ns_->GetXattr({.ino = f.ino, .name = "user.a"}, &v).ok());
  EXPECT_EQ(v, "1");
  ASSERT_TRUE(ns_->ListXattr(f.ino, &names).ok());
  EXPECT_EQ(names, std::string("user.a\0user.b\0", 14));
  EXPECT_TRUE(ns_->RemoveXattr({.ino = f.ino, .name = "user.a"}).ok());
  EXPECT_EQ(ns_->RemoveXattr({.ino = f.ino, .name = "user.a"}).err(), ENODATA);
  EXPECT_EQ(ns_->GetXattr({.ino = f.ino, .name = "user.a"}, &v).err(), ENODATA);
  EXPECT_EQ(
      ns_->SetXattr({.ino = f.ino, .name = "user.big", .value = std::string(65537, 'v')}).err(),
      E2BIG);
}

TEST_F(NamespaceServiceTest, TruncateAndCommitWrite) {
  Entry f = Make(kRoot, "f", S_IFREG | 0644);
  ASSERT_TRUE(chunks_->Write(f.ino, 0, 0, std::string(60000, 'x')).ok());
  ASSERT_TRUE(chunks_->Write(f.ino, 1, 0, std::string(100, 'y')).ok());
  Attr a;
  ASSERT_TRUE(ns_->CommitWrite({.ino = f.ino,
                                .min_size = (64 << 10) + 100,
                                .blocks_delta = 128,
                                .flags = kCommitTouchMtime},
                               &a)
                  .ok());
  EXPECT_EQ(a.size, (64u << 10) + 100);
  ASSERT_TRUE(ns_->Setattr({.ino = f.ino, .valid = kSetSize, .size = 10}, &a).ok());
  EXPECT_EQ(a.size, 10u);
  std::vector<uint8_t> buf(100);
  EXPECT_EQ(*chunks_->Read(f.ino, 1, 0, buf), 0u);
  EXPECT_EQ(*chunks_->Read(f.ino, 0, 0, buf), 10u);
  // Growing is sparse: no data is written.
  ASSERT_TRUE(ns_->Setattr({.ino = f.ino, .valid = kSetSize, .size = 11ull << 30}, &a).ok());
  EXPECT_EQ(a.size, 11ull << 30);
}

TEST_F(NamespaceServiceTest, SetattrModeKeepsTypeAndChangesCtime) {
  Entry f = Make(kRoot, "f", S_IFREG | 0644);
  Attr a;
  ASSERT_TRUE(ns_->Setattr({.ino = f.ino, .valid = kSetMode, .mode = 0100 | S_IFDIR}, &a).ok());
  EXPECT_EQ(a.mode, S_IFREG | 0100u);
  EXPECT_GT(a.ctime_ns, f.attr.ctime_ns);
  EXPECT_EQ(a.mtime_ns, f.attr.mtime_ns);
  ASSERT_TRUE(
      ns_->Setattr({.ino = f.ino, .valid = kSetAtime | kSetMtime, .atime_ns = 5, .mtime_ns = 6}, &a)
          .ok());
  EXPECT_EQ(a.atime_ns, 5);
  EXPECT_EQ(a.mtime_ns, 6);
}

TEST_F(NamespaceServiceTest, OrphanKeptUntilDropped) {
  Entry f = Make(kRoot, "f", S_IFREG);
  UnlinkResp r;
  ASSERT_TRUE(ns_->Unlink({.parent = kRoot, .name = "f", .flags = kUnlinkKeepOrphan}, &r).ok());
  EXPECT_TRUE(r.orphaned);
  EXPECT_EQ(r.ino, f.ino);
  EXPECT_EQ(Get(f.ino).nlink, 0u);
  ASSERT_TRUE(ns_->DropOrphan(f.ino).ok());
  Attr a;
  EXPECT_EQ(ns_->Getattr(f.ino, &a).err(), ENOENT);
}

TEST_F(NamespaceServiceTest, EverythingSurvivesReopen) {
  Entry d = Make(kRoot, "d", S_IFDIR | 0755);
  Entry f = Make(d.ino, "f", S_IFREG | 0644);
  Close();
  Open();
  Entry e;
  ASSERT_TRUE(ns_->Lookup({d.ino, "f"}, &e).ok());
  EXPECT_EQ(e.ino, f.ino);
  Entry g = Make(d.ino, "g", S_IFREG);
  EXPECT_GT(LocalOf(g.ino), LocalOf(f.ino)) << "inode numbers are never reused after restart";
  EXPECT_EQ(meta_->inode_count(), 4u);
}

TEST_F(NamespaceServiceTest, ConcurrentCreatesInOneDirectory) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i)
        Make(kRoot, "t" + std::to_string(t) + "-" + std::to_string(i), S_IFREG);
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(List(kRoot).size(), 400u);
}

}  // namespace
}  // namespace sealfs
