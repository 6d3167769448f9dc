// Steps of cross-server operations on a real LevelDB: what a participant
// prepares, commits and undoes, and that prepared steps survive a restart.
#include "txn_participant.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "server_core.h"
#include "temp_dir.h"

namespace sealfs {
namespace {

constexpr ServerId kSelf = 1;
const Ino kRoot = MakeIno(kSelf, kRootLocal);
constexpr uint64_t kTxn = MakeIno(2, 77);  // an operation of server 2
constexpr uint32_t kFile = S_IFREG | 0644;

class TxnParticipantTest : public ::testing::Test {
 protected:
  TxnParticipantTest() {
    config_.version = 1;
    config_.chunk_size = 64 << 10;
    config_.servers.push_back({.id = kSelf, .address = "127.0.0.1", .port = 1});
    config_.root_server = kSelf;
    Open();
    dir_ino_ = Make(kRoot, "dir", S_IFDIR | 0755).ino;
    file_ino_ = Make(dir_ino_, "file", S_IFREG | 0644).ino;
  }
  ~TxnParticipantTest() override { Close(); }

  void Open() {
    meta_ = std::move(*MetaStore::Open(dir_.path() + "/meta", kSelf));
    chunks_ = std::move(*ChunkStore::Open(dir_.path() + "/chunks", config_.chunk_size));
    core_ =
        std::make_unique<ServerCore>(StartingMembership{config_, MakeMembership(config_, nullptr)},
                                     kSelf, meta_.get(), chunks_.get(), std::chrono::seconds(1));
    ASSERT_TRUE(core_->ns.EnsureRoot(kRoot).ok());
  }
  void Close() {
    core_.reset();
    meta_.reset();
  }
  Entry Make(Ino parent, const std::string& name, uint32_t mode) {
    Entry e;
    EXPECT_TRUE(core_->ns.Mknod({.parent = parent, .name = name, .mode = mode}, &e).ok());
    return e;
  }
  Status Prepare(std::vector<PeerStep> steps, PeerPrepareResp* resp = nullptr) {
    PeerPrepareReq req{.txn = kTxn, .steps = std::move(steps)};
    PeerPrepareResp ignored;
    return core_->participant.Prepare(&req, resp ? resp : &ignored);
  }
  Status Finish(bool commit) { return core_->participant.Finish(kTxn, commit); }
  Result<InodeRecord> Inode(Ino ino) { return meta_->GetInode(ino); }
  Ino EntryOf(Ino parent, const std::string& name) {
    Result<DentryValue> d = meta_->GetDentry(parent, name);
    return d.ok() ? d->ino : 0;
  }
  int Prepared() {
    int n = 0;
    meta_->ScanPrepared(0, [&](uint64_t, const PreparedStep&) { ++n; });
    return n;
  }

  testing::TempDir dir_;
  ClusterConfig config_;
  std::unique_ptr<MetaStore> meta_;
  std::unique_ptr<ChunkStore> chunks_;
  std::unique_ptr<ServerCore> core_;
  Ino dir_ino_ = 0;
  Ino file_ino_ = 0;
};

TEST_F(TxnParticipantTest, UndoOfAReplacingEntryRestoresTheVictim) {
  const Ino other = Make(dir_ino_, "other", S_IFREG | 0644).ino;
  ASSERT_TRUE(
      Prepare({EntryStep(StepKind::kPutEntry, dir_ino_, "file", other, kFile, 0, file_ino_)}).ok());
  EXPECT_EQ(EntryOf(dir_ino_, "file"), other) << "a prepared step is applied at once";
  EXPECT_TRUE(core_->participant.Busy({}, {{dir_ino_, "file"}}));
  ASSERT_TRUE(Finish(false).ok());
  EXPECT_EQ(EntryOf(dir_ino_, "file"), file_ino_);
  EXPECT_FALSE(core_->participant.Busy({}, {{dir_ino_, "file"}}));
  EXPECT_EQ(Prepared(), 0);
  // The readdir index holds the victim again, under its old cookie.
  ReaddirResp r;
  ASSERT_TRUE(core_->ns.Readdir({.dir = dir_ino_, .max_entries = 10}, &r).ok());
  std::set<std::string> names;
  for (auto& e : r.entries) names.insert(e.name);
  EXPECT_EQ(names, (std::set<std::string>{"file", "other"}));
}

TEST_F(TxnParticipantTest, AnEntryThatChangedRefusesTheStepAndChangesNothing) {
  Status s = Prepare({EntryStep(StepKind::kPutEntry, dir_ino_, "file", file_ino_, kFile, 0)});
  EXPECT_EQ(s.err(), EAGAIN);
  s = Prepare({EntryStep(StepKind::kDeleteEntry, dir_ino_, "file", file_ino_ + 1, kFile, 0)});
  EXPECT_EQ(s.err(), EAGAIN);
  EXPECT_EQ(Prepared(), 0);
  EXPECT_EQ(EntryOf(dir_ino_, "file"), file_ino_);
}

TEST_F(TxnParticipantTest, DeleteEntryCommitsOrComesBack) {
  ASSERT_TRUE(
      Prepare({EntryStep(StepKind::kDeleteEntry, dir_ino_, "file", file_ino_, kFile, 0)}).ok());
  EXPECT_EQ(EntryOf(dir_ino_, "file"), 0u);
  // Another step on the same name waits for this one.
  EXPECT_TRUE(core_->participant.Busy({}, {{dir_ino_, "file"}}));
  PeerPrepareReq other{
      .txn = kTxn + 1,
      .steps = {EntryStep(StepKind::kPutEntry, dir_ino_, "file", file_ino_, kFile, 0)}};
  PeerPrepareResp resp;
  EXPECT_EQ(core_->participant.Prepare(&other, &resp).err(), EAGAIN);
  ASSERT_TRUE(Finish(false).ok());
  EXPECT_EQ(EntryOf(dir_ino_, "file"), file_ino_);
}

TEST_F(TxnParticipantTest, CreatedInodeGoesOnUndoAndStaysOnCommit) {
  PeerPrepareResp resp;
  PeerStep create = InodeStep(StepKind::kCreateInode, 0);
  create.attr = Attr{.mode = S_IFDIR | 0755, .nlink = 2, .parent = kRoot};
  ASSERT_TRUE(Prepare({create}, &resp).ok());
  ASSERT_EQ(resp.attrs.size(), 1u);
  const Ino made = resp.attrs[0].ino;
  EXPECT_EQ(HomeOf(made), kSelf);
  EXPECT_TRUE(Inode(made).ok());
  ASSERT_TRUE(Finish(false).ok());
  EXPECT_EQ(Inode(made).err(), ENOENT);

  ASSERT_TRUE(Prepare({create}, &resp).ok());
  ASSERT_TRUE(Finish(true).ok());
  EXPECT_TRUE(Inode(resp.attrs[0].ino).ok());
  ASSERT_TRUE(Finish(true).ok()) << "finishing twice is harmless";
}

TEST_F(TxnParticipantTest, DroppedLastLinkRemovesTheInodeOnlyAtCommit) {
  ASSERT_TRUE(Prepare({InodeStep(StepKind::kDropLink, file_ino_)}).ok());
  EXPECT_EQ(Inode(file_ino_)->attr.nlink, 0u);
  ASSERT_TRUE(Finish(false).ok());
  EXPECT_EQ(Inode(file_ino_)->attr.nlink, 1u);
  ASSERT_TRUE(Prepare({InodeStep(StepKind::kDropLink, file_ino_)}).ok());
  ASSERT_TRUE(Finish(true).ok());
  EXPECT_EQ(Inode(file_ino_).err(), ENOENT);
}

TEST_F(TxnParticipantTest, RemoveDirChecksEmptinessAndBlocksNewEntries) {
  EXPECT_EQ(Prepare({InodeStep(StepKind::kRemoveDir, dir_ino_)}).err(), ENOTEMPTY);
  const Ino empty = Make(kRoot, "empty", S_IFDIR | 0755).ino;
  EXPECT_EQ(Prepare({InodeStep(StepKind::kRemoveDir, file_ino_)}).err(), ENOTDIR);
  ASSERT_TRUE(Prepare({InodeStep(StepKind::kRemoveDir, empty)}).ok());
  Entry e;
  EXPECT_EQ(core_->ns.Mknod({.parent = empty, .name = "late", .mode = S_IFREG}, &e).err(), ENOENT)
      << "a directory being removed takes no new entries";
  ASSERT_TRUE(Finish(false).ok());
  EXPECT_EQ(Inode(empty)->attr.nlink, 2u);
  EXPECT_TRUE(core_->ns.Mknod({.parent = empty, .name = "late", .mode = S_IFREG}, &e).ok());
}

TEST_F(TxnParticipantTest, PreparedStepsSurviveARestart) {
  const Ino new_parent = Make(kRoot, "new-parent", S_IFDIR | 0755).ino;
  PeerStep reparent = InodeStep(StepKind::kSetParent, dir_ino_);
  reparent.parent = new_parent;
  ASSERT_TRUE(Prepare({InodeStep(StepKind::kAddLink, file_ino_), reparent}).ok());
  EXPECT_EQ(Inode(file_ino_)->attr.nlink, 2u);
  EXPECT_EQ(Inode(dir_ino_)->attr.parent, new_parent);
  Close();
  Open();
  EXPECT_EQ(Prepared(), 2);
  EXPECT_TRUE(core_->participant.Busy({file_ino_}, {}));
  ASSERT_TRUE(Finish(false).ok());
  EXPECT_EQ(Inode(file_ino_)->attr.nlink, 1u);
  EXPECT_EQ(Inode(dir_ino_)->attr.parent, kRoot);
  EXPECT_FALSE(core_->participant.Busy({file_ino_}, {}));
}

}  // namespace
}  // namespace sealfs
