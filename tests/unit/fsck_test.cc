// sealfs-fsck's checker on real stores of a two-server cluster, damaged on
// purpose the way a crash or a bug could damage them.
#include "fsck.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <sstream>

#include "fsck_online.h"
#include "server_core.h"
#include "temp_dir.h"

namespace sealfs {
namespace {

class FsckTest : public ::testing::Test {
 protected:
  FsckTest() {
    config_.version = 1;
    config_.chunk_size = 64 << 10;
    for (ServerId id : {1, 2})
      config_.servers.push_back({.id = id,
                                 .address = "127.0.0.1",
                                 .port = uint16_t(id),
                                 .data_dir = dir_.path() + "/s" + std::to_string(id)});
    config_.root_server = 1;
    OpenStores();
    ServerStores& root = stores_[1];
    ClusterConfig alone{.version = 1,
                        .chunk_size = config_.chunk_size,
                        .root_server = 1,
                        .servers = {config_.servers[0]}};
    core_ =
        std::make_unique<ServerCore>(StartingMembership{alone, MakeMembership(alone, nullptr)}, 1,
                                     root.meta.get(), root.chunks.get(), std::chrono::seconds(1));
    ns_ = &core_->ns;
    EXPECT_TRUE(ns_->EnsureRoot(config_.RootIno()).ok());
  }
  ~FsckTest() override {
    ns_ = nullptr;
    core_.reset();
  }
  void OpenStores() {
    for (const ServerInfo& s : config_.servers) {
      std::filesystem::create_directories(s.data_dir);
      stores_[s.id].meta = std::move(*MetaStore::Open(s.data_dir + "/meta", s.id));
      stores_[s.id].chunks =
          std::move(*ChunkStore::Open(s.data_dir + "/chunks", config_.chunk_size));
    }
  }
  Entry Make(Ino parent, const std::string& name, uint32_t mode) {
    Entry e;
    EXPECT_TRUE(ns_->Mknod({.parent = parent, .name = name, .mode = mode}, &e).ok());
    return e;
  }
  Fsck::Report Check(bool repair) {
    std::ostringstream out;
    Result<Fsck::Report> r = CheckStoppedCluster(config_, &stores_, repair, &out);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    log_ = out.str();
    return *r;
  }

  testing::TempDir dir_;
  ClusterConfig config_;
  std::map<ServerId, ServerStores> stores_;
  std::unique_ptr<ServerCore> core_;
  NamespaceService* ns_ = nullptr;
  std::string log_;
};

TEST_F(FsckTest, HealthyNamespaceIsClean) {
  Entry d = Make(config_.RootIno(), "d", S_IFDIR | 0755);
  Make(d.ino, "f", S_IFREG | 0644);
  ASSERT_TRUE(stores_[2].chunks->Write(MakeIno(1, 3), 0, 0, "x").ok());  // f's first chunk
  Attr a;
  ASSERT_TRUE(ns_->CommitWrite({.ino = MakeIno(1, 3), .min_size = 1}, &a).ok());
  Fsck::Report r = Check(false);
  EXPECT_EQ(r.problems, 0) << log_;
}

TEST_F(FsckTest, FindsAndRepairsDamage) {
  Ino root = config_.RootIno();
  Entry d = Make(root, "d", S_IFDIR | 0755);
  Entry f = Make(d.ino, "f", S_IFREG | 0644);
  Entry g = Make(root, "g", S_IFREG | 0644);
  MetaStore* meta = stores_[1].meta.get();
  // 1. An entry whose inode is gone.
  MetaStore::Batch b;
  b.DeleteInode(g.ino);
  // 2. A wrong link count.
  InodeRecord fr = *meta->GetInode(f.ino);
  fr.attr.nlink = 5;
  b.PutInode(fr);
  // 3. An inode nobody links to.
  InodeRecord lost = fr;
  lost.attr.ino = MakeIno(1, 999);
  lost.attr.nlink = 1;
  b.PutInode(lost);
  ASSERT_TRUE(meta->Commit(&b).ok());
  // 4. Chunks of an inode that does not exist, on the other server.
  ASSERT_TRUE(stores_[2].chunks->Write(MakeIno(1, 12345), 2, 0, "leak").ok());

  Fsck::Report r = Check(false);
  EXPECT_EQ(r.problems, 4) << log_;
  EXPECT_EQ(r.repaired, 0);
  EXPECT_NE(log_.find("points at missing inode"), std::string::npos) << log_;
  EXPECT_NE(log_.find("has link count 5, expected 1"), std::string::npos) << log_;
  EXPECT_NE(log_.find("not reachable"), std::string::npos) << log_;
  EXPECT_NE(log_.find("belong to no inode"), std::string::npos) << log_;

  r = Check(true);
  EXPECT_EQ(r.problems, r.repaired) << log_;
  r = Check(false);
  EXPECT_EQ(r.problems, 0) << log_;
  Entry e;
  ASSERT_TRUE(ns_->Lookup({root, "lost+found"}, &e).ok());
  EXPECT_TRUE(ns_->Lookup({e.ino, fmt::format("{:016x}", MakeIno(1, 999))}, &e).ok());
}

TEST_F(FsckTest, PendingIntentIsNotDamageAndRepairFinishesIt) {
  Entry f = Make(config_.RootIno(), "f", S_IFREG | 0644);
  ASSERT_TRUE(stores_[2].chunks->Write(f.ino, 0, 0, "data").ok());
  Attr a;
  ASSERT_TRUE(ns_->CommitWrite({.ino = f.ino, .min_size = 4}, &a).ok());
  core_->intents.Stop();  // as if the server died right after acknowledging the unlink
  UnlinkResp ur;
  ASSERT_TRUE(ns_->Unlink({.parent = config_.RootIno(), .name = "f"}, &ur).ok());
  Fsck::Report r = Check(false);
  EXPECT_EQ(r.problems, 0) << log_;
  EXPECT_EQ(r.pending_intents, 1) << log_;
  r = Check(true);
  int chunks = 0;
  stores_[2].chunks->ForEachChunk([&](Ino, uint64_t, uint64_t) { ++chunks; });
  EXPECT_EQ(chunks, 0);
  EXPECT_EQ(Check(false).pending_intents, 0);
}

TEST_F(FsckTest, ScanRawPagesCoverEveryRecordOnce) {
  for (int i = 0; i < 50; ++i) Make(config_.RootIno(), fmt::format("f{:02}", i), S_IFREG | 0644);
  MetaStore* meta = stores_[1].meta.get();
  for (size_t max_bytes : {size_t{1}, size_t{100}, size_t{1} << 20}) {
    std::vector<KeyValue> all;
    std::string start;
    for (int pages = 0;; ++pages) {
      ASSERT_LT(pages, 100);
      std::vector<KeyValue> page;
      bool eof = meta->ScanRaw("D", start, max_bytes, &page, &start);
      ASSERT_FALSE(page.empty());
      all.insert(all.end(), page.begin(), page.end());
      if (eof) break;
    }
    ASSERT_EQ(all.size(), 50u) << "pages of " << max_bytes << " bytes";
    for (size_t i = 0; i < all.size(); ++i) {
      EXPECT_EQ(all[i].key[0], 'D');
      EXPECT_TRUE(all[i].key.ends_with(fmt::format("f{:02}", i)));
    }
  }
}

// Calls between_scans() when a scan of the cluster starts (its first request).
class SteppedSource : public StoreSource {
 public:
  SteppedSource(std::map<ServerId, ServerStores>* stores, std::function<void(int)> before_scan)
      : StoreSource(stores), before_scan_(std::move(before_scan)) {}
  Status ScanMeta(ServerId server, const FsckScanMetaReq& req, FsckScanMetaResp* resp) override {
    if (server == 1 && req.prefix == "I" && req.start.empty()) before_scan_(++scans_);
    return StoreSource::ScanMeta(server, req, resp);
  }

 private:
  std::function<void(int)> before_scan_;
  int scans_ = 0;
};

TEST_F(FsckTest, RunningClusterReportsOnlyWhatPersistsUnchanged) {
  Ino root = config_.RootIno();
  Entry a = Make(root, "a", S_IFREG | 0644);
  Entry b = Make(root, "b", S_IFREG | 0644);
  MetaStore* meta = stores_[1].meta.get();
  InodeRecord a_rec = *meta->GetInode(a.ino);
  // Chunks of no inode, in both scans: reported.
  ASSERT_TRUE(stores_[2].chunks->Write(MakeIno(1, 777), 0, 0, "leak").ok());
  SteppedSource source(&stores_, [&](int scan) {
    MetaStore::Batch batch;
    InodeRecord b_rec = *meta->GetInode(b.ino);
    b_rec.attr.nlink = 3;  // a wrong link count in both scans, but changed in between
    b_rec.attr.ctime_ns += scan;
    batch.PutInode(b_rec);
    if (scan == 1)
      batch.DeleteInode(a.ino);  // "a" names a missing inode in the first scan only
    else
      batch.PutInode(a_rec);
    ASSERT_TRUE(meta->Commit(&batch).ok());
  });
  std::ostringstream out;
  Result<Fsck::Report> r =
      CheckRunningCluster(config_, &source, std::chrono::milliseconds(0), &out);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->problems, 1) << out.str();
  ASSERT_EQ(r->findings.size(), 1u) << out.str();
  EXPECT_NE(r->findings[0].text.find("belong to no inode"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("belong to no inode"), std::string::npos) << out.str();
}

TEST_F(FsckTest, RunningClusterNotesOperationsInFlight) {
  Entry f = Make(config_.RootIno(), "f", S_IFREG | 0644);
  ASSERT_TRUE(stores_[2].chunks->Write(f.ino, 0, 0, "data").ok());
  Attr a;
  ASSERT_TRUE(ns_->CommitWrite({.ino = f.ino, .min_size = 4}, &a).ok());
  core_->intents.Stop();  // the unlink's chunks stay until the intent runs
  UnlinkResp ur;
  ASSERT_TRUE(ns_->Unlink({.parent = config_.RootIno(), .name = "f"}, &ur).ok());
  StoreSource source(&stores_);
  std::ostringstream out;
  Result<Fsck::Report> r =
      CheckRunningCluster(config_, &source, std::chrono::milliseconds(0), &out);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->problems, 0) << out.str();
  EXPECT_EQ(r->pending_intents, 1);
  EXPECT_NE(out.str().find("server 1: 1 operations in flight"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace sealfs
