// The servers' side of the --bpf cache (docs/design.md, "The --bpf client
// cache"), on the host's own kernel: a caching client's sessions (the real
// CacheSessions, over real sockets to real servers) must be told of every
// change to what it may cache before the call that made the change returns,
// and a client that does not answer may delay a change by one lease at most.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "cache_sessions.h"
#include "cluster_client.h"
#include "cluster_config.h"
#include "file_util.h"
#include "fs_test.h"
#include "poll_until.h"
#include "syscall_assertions.h"

namespace sealfs::it {
namespace {

using namespace std::chrono_literals;

constexpr auto kLease = 1000ms;
constexpr uint64_t kClient = 0x5ea1f5;

// Records what the servers told it; can be made to hang.
class RecordingListener : public CacheSessions::Listener {
 public:
  void Invalidate(const CacheInvalidateReq& req) override {
    {
      std::lock_guard lock(mu_);
      for (Ino ino : req.inodes) inodes_.insert(ino);
      for (const EntryName& e : req.entries) entries_.insert({e.parent, e.name});
    }
    if (hang_) std::this_thread::sleep_for(3 * kLease);
  }
  void DropAll() override { ++drops_; }
  void SetLease(uint64_t deadline_ns) override { lease_ns_ = deadline_ns; }

  bool SawInode(Ino ino) {
    std::lock_guard lock(mu_);
    return inodes_.contains(ino);
  }
  bool SawEntry(Ino parent, const std::string& name) {
    std::lock_guard lock(mu_);
    return entries_.contains({parent, name});
  }
  std::atomic<bool> hang_{false};
  std::atomic<int> drops_{0};
  std::atomic<uint64_t> lease_ns_{0};

 private:
  std::mutex mu_;
  std::set<Ino> inodes_;
  std::set<std::pair<Ino, std::string>> entries_;
};

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

class CacheSessionTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    if (IsSkipped()) return;
    auto& cluster = StartCluster();
    mnt_ = cluster.AddMount().path();
    Result<ClusterConfig> config = LoadClusterConfig(cluster.config_path().string());
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config_ = *config;
    client_ = std::make_unique<ClusterClient>(config_, 3000ms);
    sessions_ = std::make_unique<CacheSessions>(config_, kClient, kLease, &listener_);
    ASSERT_TRUE(sessions_->WaitAllOpen(5s)) << "cache sessions did not open";
  }
  void TearDown() override {
    sessions_.reset();
    ClusterTest::TearDown();
  }

  // What a caching GETATTR / LOOKUP would ask: the server now owes us invalidations.
  Status CachingGetattr(Ino ino) {
    CachingInoReq q{.client = kClient, .ino = ino};
    Attr a;
    return client_->Meta(Op::kGetattrCaching, ino, q, &a, true);
  }
  Status CachingLookup(Ino parent, const std::string& name) {
    CachingLookupReq q{.client = kClient, .parent = parent, .name = name};
    Entry e;
    return client_->Meta(Op::kLookupCaching, parent, q, &e, true);
  }
  Ino ServerIno(const std::filesystem::path& p) {
    Ino ino = Stat(p).st_ino;
    return ino == 1 ? config_.RootIno() : ino;
  }

  std::filesystem::path mnt_;
  ClusterConfig config_;
  std::unique_ptr<ClusterClient> client_;
  RecordingListener listener_;
  std::unique_ptr<CacheSessions> sessions_;
};

TEST_F(CacheSessionTest, LeaseIsGrantedAndRenewed) {
  uint64_t first = listener_.lease_ns_.load();
  EXPECT_GT(first, NowNs());
  EXPECT_LE(first, NowNs() + std::chrono::nanoseconds(kLease).count());
  std::this_thread::sleep_for(kLease);
  EXPECT_GT(listener_.lease_ns_.load(), first) << "the lease was not renewed";
  EXPECT_GT(listener_.lease_ns_.load(), NowNs());
}

TEST_F(CacheSessionTest, AChangeIsInvalidatedBeforeTheCallReturns) {
  WriteFile(mnt_ / "f", "x");
  ASSERT_OK(::mkdir((mnt_ / "d").c_str(), 0755));
  Ino f = ServerIno(mnt_ / "f"), d = ServerIno(mnt_ / "d"), root = config_.RootIno();
  ASSERT_TRUE(CachingGetattr(f).ok());
  ASSERT_TRUE(CachingLookup(root, "f").ok());
  ASSERT_TRUE(CachingLookup(root, "d").ok());
  ASSERT_TRUE(CachingGetattr(d).ok());  // a directory's attributes live on its own server
  ASSERT_FALSE(listener_.SawInode(f));

  ASSERT_OK(::chmod((mnt_ / "f").c_str(), 0600));
  EXPECT_TRUE(listener_.SawInode(f)) << "chmod returned before the attributes were invalidated";

  ASSERT_OK(::rename((mnt_ / "f").c_str(), (mnt_ / "d" / "g").c_str()));
  EXPECT_TRUE(listener_.SawEntry(root, "f")) << "rename returned before the entry was invalidated";
  EXPECT_TRUE(listener_.SawInode(d)) << "the target directory's attributes were not invalidated";

  // Entries of a directory on another server than the root (directories spread).
  ASSERT_TRUE(CachingLookup(d, "g").ok());
  ASSERT_OK(::unlink((mnt_ / "d" / "g").c_str()));
  EXPECT_TRUE(listener_.SawEntry(d, "g"));
}

TEST_F(CacheSessionTest, AClientThatDoesNotAnswerDelaysAChangeByOneLeaseAtMost) {
  WriteFile(mnt_ / "f", "x");
  Ino f = ServerIno(mnt_ / "f");
  ASSERT_TRUE(CachingGetattr(f).ok());
  listener_.hang_ = true;
  int drops_before = listener_.drops_.load();
  auto start = std::chrono::steady_clock::now();
  ASSERT_OK(::chmod((mnt_ / "f").c_str(), 0600));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, kLease + 1s) << "the change waited longer than the lease";
  // The server expired the session: the client drops everything and opens a new one.
  listener_.hang_ = false;
  EXPECT_TRUE(PollUntil([&] { return listener_.drops_.load() > drops_before; }, 5 * kLease));
  EXPECT_TRUE(sessions_->WaitAllOpen(5 * kLease));
  EXPECT_TRUE(CachingGetattr(f).ok());
}

TEST_F(CacheSessionTest, AGoneClientDelaysAChangeByOneLeaseAtMost) {
  WriteFile(mnt_ / "f", "x");
  Ino f = ServerIno(mnt_ / "f");
  ASSERT_TRUE(CachingGetattr(f).ok());
  sessions_.reset();  // its connections close without a word
  auto start = std::chrono::steady_clock::now();
  ASSERT_OK(::chmod((mnt_ / "f").c_str(), 0600));
  EXPECT_LT(std::chrono::steady_clock::now() - start, kLease + 1s);
  // Its session is gone for good.
  EXPECT_EQ(CachingGetattr(f).err(), EKEYEXPIRED);
}

TEST_F(CacheSessionTest, CachingRequestsWithoutASessionAreRefused) {
  CachingInoReq q{.client = 12345, .ino = config_.RootIno()};
  Attr a;
  EXPECT_EQ(client_->Meta(Op::kGetattrCaching, q.ino, q, &a, true).err(), EKEYEXPIRED);
}

TEST_F(CacheSessionTest, ARestartedServerWaitsOutTheLeasesOfItsPreviousRun) {
  WriteFile(mnt_ / "f", "x");
  Ino f = ServerIno(mnt_ / "f");
  ASSERT_TRUE(CachingGetattr(f).ok());
  int server = HomeOf(f);
  cluster().KillServer(server);
  cluster().StartServer(server);
  auto start = std::chrono::steady_clock::now();
  ASSERT_OK(::chmod((mnt_ / "f").c_str(), 0600));
  // The server's grace is its longest lease (2 s), counted from its start.
  EXPECT_GT(std::chrono::steady_clock::now() - start, 100ms)
      << "a change right after the restart did not wait for the old leases";
}

}  // namespace
}  // namespace sealfs::it
