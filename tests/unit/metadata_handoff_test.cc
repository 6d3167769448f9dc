// What the metadata store does for removing a server (metadata_handoff.h), on
// real LevelDB: a frozen store takes no metadata changes, its records page out
// without the counters and into another store, and reads of records still
// being copied wait for them.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "meta_store.h"
#include "temp_dir.h"

namespace sealfs {
namespace {

constexpr ServerId kLeaving = 3;
constexpr ServerId kHeir = 1;
const Ino kDir = MakeIno(kLeaving, 5);
constexpr uint64_t kTxn = MakeIno(2, 77);  // an operation of server 2

class MetadataHandoffTest : public ::testing::Test {
 protected:
  MetadataHandoffTest() {
    leaving_ = std::move(*MetaStore::Open(dir_.path() + "/leaving", kLeaving));
    heir_ = std::move(*MetaStore::Open(dir_.path() + "/heir", kHeir));
  }

  // A directory with an entry and an xattr, an intent, a prepared step, a counter.
  void Populate(MetaStore* store, Ino dir) {
    MetaStore::Batch b;
    InodeRecord rec;
    rec.attr = Attr{.ino = dir, .mode = S_IFDIR | 0755, .nlink = 2};
    b.PutInode(rec);
    b.PutDentry(dir, "name", {.ino = MakeIno(HomeOf(dir), 6), .mode = S_IFREG, .cookie = 2});
    b.PutXattr(dir, "user.k", "v");
    b.PutIntent({.id = MakeIno(HomeOf(dir), 9), .kind = 1, .ino = dir});
    b.PutPrepared(0, {.txn = kTxn, .step = {.kind = 1, .ino = dir}});
    b.PutCounter("migration-rate", 5);
    ASSERT_TRUE(store->Commit(&b).ok());
  }

  // Every page of `from`'s records, stored in `to`.
  void Copy(MetaStore* from, MetaStore* to, size_t page_bytes) {
    std::string start;
    for (int pages = 0; pages < 100; ++pages) {
      std::vector<KeyValue> page;
      std::string next;
      const bool eof = from->ScanMetadata(start, page_bytes, &page, &next);
      for (const KeyValue& kv : page) EXPECT_NE(kv.key[0], 'M') << "a counter left the store";
      ASSERT_TRUE(to->CommitImported(page, HomeOf(kDir)).ok());
      if (eof) return;
      start = next;
    }
    FAIL() << "the pages never ended";
  }

  testing::TempDir dir_;
  std::unique_ptr<MetaStore> leaving_, heir_;
};

TEST_F(MetadataHandoffTest, AFrozenStoreTakesNoMetadataChanges) {
  Populate(leaving_.get(), kDir);
  leaving_->Freeze();
  MetaStore::Batch change;
  change.DeleteXattr(kDir, "user.k");
  EXPECT_EQ(leaving_->Commit(&change).err(), ERESTART);
  EXPECT_TRUE(leaving_->GetXattr(kDir, "user.k").ok());
  MetaStore::Batch counter;
  counter.PutCounter("migration-rate", 6);
  EXPECT_TRUE(leaving_->Commit(&counter).ok()) << "its own counters still change";
}

TEST_F(MetadataHandoffTest, RecordsMoveWithoutCountersAndStoringThemAgainChangesNothing) {
  Populate(leaving_.get(), kDir);
  // The heir prepared a step of the same operation: the moved one must not replace it.
  MetaStore::Batch own;
  own.PutPrepared(0, {.txn = kTxn, .step = {.kind = 2, .ino = MakeIno(kHeir, 8)}});
  ASSERT_TRUE(heir_->Commit(&own).ok());
  const uint64_t inodes_before = heir_->inode_count();

  Copy(leaving_.get(), heir_.get(), 1);  // a record per page
  Copy(leaving_.get(), heir_.get(), 1 << 20);

  Result<InodeRecord> dir = heir_->GetInode(kDir);
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  EXPECT_EQ(dir->attr.nlink, 2u);
  EXPECT_EQ(heir_->inode_count(), inodes_before + 1);
  EXPECT_EQ(heir_->GetDentry(kDir, "name")->ino, MakeIno(kLeaving, 6));
  EXPECT_EQ(*heir_->GetXattr(kDir, "user.k"), "v");
  EXPECT_TRUE(heir_->GetIntent(MakeIno(kLeaving, 9)).ok());
  int steps = 0;
  heir_->ScanPrepared(kTxn, [&](uint64_t, const PreparedStep&) { ++steps; });
  EXPECT_EQ(steps, 2) << "the moved step sits beside the heir's own";
  EXPECT_EQ(heir_->GetCounter("migration-rate").err(), ENOENT);
}

TEST_F(MetadataHandoffTest, ReadsOfRecordsStillToComeWait) {
  Populate(leaving_.get(), kDir);
  heir_->BeginImport({kLeaving});
  std::atomic<bool> read{false};
  std::thread reader([&] {
    EXPECT_TRUE(heir_->GetInode(kDir).ok()) << "the read ran before the record came";
    read = true;
  });
  EXPECT_EQ(heir_->GetInode(MakeIno(kHeir, 1)).err(), ENOENT) << "its own inodes do not wait";
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(read);
  Copy(leaving_.get(), heir_.get(), 1 << 20);
  heir_->EndImport();
  reader.join();
  EXPECT_TRUE(read);
}

}  // namespace
}  // namespace sealfs
