// sealfs-mount --bpf on a kernel with the FUSE BPF hook (the test VM:
// tests/vm/run-integration.sh): LOOKUP and GETATTR answered in the kernel,
// and never stale, on the mount that made a change and on another one.
// On a kernel without the hook these tests skip, and BpfFallbackTest checks
// the refusal of --bpf and the fallback of --bpf=auto instead.
#include "bpf_cache.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "binaries.h"
#include "file_util.h"
#include "fs_test.h"
#include "run_as.h"
#include "syscall_assertions.h"
#include "two_client_stress.h"

namespace sealfs::it {
namespace {

using namespace std::chrono_literals;

struct Counters {
  uint64_t lookup_hit = 0, lookup_miss = 0, lookup_forward = 0;
  uint64_t getattr_hit = 0, getattr_miss = 0, getattr_forward = 0;
  uint64_t ToDaemon() const {
    return lookup_miss + lookup_forward + getattr_miss + getattr_forward;
  }
};

// `sealfs-mount --stats MOUNTPOINT`, parsed.
Counters ReadStats(const std::filesystem::path& mnt) {
  CommandResult r = RunCommand({BinaryPath("sealfs-mount").string(), "--stats", mnt.string()}, 10s);
  if (r.status != 0) throw std::runtime_error("sealfs-mount --stats failed: " + r.output);
  Counters c;
  std::istringstream in(r.output);
  std::string line, op;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    uint64_t hit, miss, fwd;
    if (!(f >> op >> hit >> miss >> fwd)) continue;
    if (op == "lookup") c.lookup_hit = hit, c.lookup_miss = miss, c.lookup_forward = fwd;
    if (op == "getattr") c.getattr_hit = hit, c.getattr_miss = miss, c.getattr_forward = fwd;
  }
  return c;
}

MountOptions Bpf() { return MountOptions{.extra_args = {"--bpf"}}; }

class BpfCacheTest : public ClusterTest {
 protected:
  void SetUp() override {
    if (Status s = BpfCache::HookAvailable(); !s.ok()) GTEST_SKIP() << s.message();
    ClusterTest::SetUp();
    if (IsSkipped()) return;
    auto& cluster = StartCluster();
    a_ = cluster.AddMount(Bpf()).path();
    FuseMount& b = cluster.AddMount(Bpf());
    b_ = b.path();
    b_daemon_ = b.daemon_pid();
  }
  std::filesystem::path a_, b_;
  pid_t b_daemon_ = -1;
};

TEST_F(BpfCacheTest, RepeatedStatsAreAnsweredInTheKernel) {
  ASSERT_OK(::mkdir((a_ / "d").c_str(), 0755));
  for (int i = 0; i < 100; ++i) WriteFile(a_ / "d" / std::to_string(i), "x");
  for (int i = 0; i < 100; ++i) Stat(a_ / "d" / std::to_string(i));  // fills
  Counters before = ReadStats(a_);
  for (int round = 0; round < 10; ++round)
    for (int i = 0; i < 100; ++i) EXPECT_EQ(Stat(a_ / "d" / std::to_string(i)).st_size, 1);
  Counters after = ReadStats(a_);
  EXPECT_EQ(after.ToDaemon(), before.ToDaemon()) << "hot stats reached the daemon";
  // "d" and the file are confirmed during RCU-walk, and both the entry and
  // the attributes of an answer last one tick: stats in the same tick share
  // it, so there are at most two hits per stat.
  EXPECT_GT(after.lookup_hit, before.lookup_hit);
  EXPECT_LE(after.lookup_hit - before.lookup_hit, 2000u);

  // GETATTR of an open file, each more than a tick after the last.
  auto fd = Open(a_ / "d" / "0", O_RDONLY);
  before = ReadStats(a_);
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(15));
    struct stat st;
    ASSERT_OK(::fstat(fd.get(), &st));
    EXPECT_EQ(st.st_size, 1);
  }
  after = ReadStats(a_);
  EXPECT_EQ(after.ToDaemon(), before.ToDaemon()) << "fstat reached the daemon";
  EXPECT_GE(after.getattr_hit - before.getattr_hit, 20u);
}

// Each kind of change, made on `writer`, must be visible on `reader` as soon
// as the call returns, although `reader` had the old answer cached.
void ExpectEveryChangeVisible(const std::filesystem::path& writer,
                              const std::filesystem::path& reader) {
  auto cached = [&](const std::filesystem::path& rel) {
    Stat(reader / rel);
    return Stat(reader / rel);
  };
  ASSERT_OK(::mkdir((writer / "d").c_str(), 0755));
  ASSERT_OK(::mkdir((writer / "e").c_str(), 0755));
  WriteFile(writer / "d" / "f", "12345");
  // chmod, chown, utimens, truncate, write + close.
  cached("d/f");
  ASSERT_OK(::chmod((writer / "d" / "f").c_str(), 0600));
  EXPECT_EQ(Stat(reader / "d" / "f").st_mode & 07777, 0600u);
  ASSERT_OK(::chown((writer / "d" / "f").c_str(), 1234, 5678));
  EXPECT_EQ(Stat(reader / "d" / "f").st_uid, 1234u);
  EXPECT_EQ(Stat(reader / "d" / "f").st_gid, 5678u);
  timespec times[2] = {{.tv_sec = 1000, .tv_nsec = 0}, {.tv_sec = 2000, .tv_nsec = 0}};
  ASSERT_OK(::utimensat(AT_FDCWD, (writer / "d" / "f").c_str(), times, 0));
  EXPECT_EQ(Stat(reader / "d" / "f").st_mtim.tv_sec, 2000);
  ASSERT_OK(::truncate((writer / "d" / "f").c_str(), 2));
  EXPECT_EQ(Stat(reader / "d" / "f").st_size, 2);
  WriteFile(writer / "d" / "f", std::string(7000, 'w'));
  EXPECT_EQ(Stat(reader / "d" / "f").st_size, 7000);
  // Create, mkdir, symlink, link: the new name, and the parent's times and links.
  struct stat dir_before = cached("d");
  EXPECT_FALSE(Exists(reader / "d" / "new"));
  WriteFile(writer / "d" / "new", "n");
  EXPECT_TRUE(Exists(reader / "d" / "new"));
  ASSERT_OK(::mkdir((writer / "d" / "sub").c_str(), 0700));
  EXPECT_TRUE(S_ISDIR(Stat(reader / "d" / "sub").st_mode));
  EXPECT_EQ(Stat(reader / "d").st_nlink, dir_before.st_nlink + 1);
  ASSERT_OK(::symlink("f", (writer / "d" / "sym").c_str()));
  EXPECT_TRUE(Exists(reader / "d" / "sym"));
  cached("d/f");
  ASSERT_OK(::link((writer / "d" / "f").c_str(), (writer / "e" / "hard").c_str()));
  EXPECT_EQ(Stat(reader / "d" / "f").st_nlink, 2u);
  EXPECT_EQ(Stat(reader / "e" / "hard").st_ino, Stat(reader / "d" / "f").st_ino);
  // Rename, both sides, across directories and over an existing name.
  cached("d/new");
  cached("e/hard");
  ASSERT_OK(::rename((writer / "d" / "new").c_str(), (writer / "e" / "moved").c_str()));
  EXPECT_FALSE(Exists(reader / "d" / "new"));
  EXPECT_EQ(ReadFile(reader / "e" / "moved"), "n");
  ASSERT_OK(::rename((writer / "e" / "moved").c_str(), (writer / "e" / "hard").c_str()));
  EXPECT_EQ(Stat(reader / "e" / "hard").st_size, 1);
  EXPECT_EQ(Stat(reader / "d" / "f").st_nlink, 1u);
  // A directory moved to another parent.
  cached("d/sub");
  ASSERT_OK(::rename((writer / "d" / "sub").c_str(), (writer / "e" / "sub").c_str()));
  EXPECT_FALSE(Exists(reader / "d" / "sub"));
  EXPECT_TRUE(S_ISDIR(Stat(reader / "e" / "sub").st_mode));
  // Unlink and rmdir.
  cached("d/sym");
  ASSERT_OK(::unlink((writer / "d" / "sym").c_str()));
  EXPECT_FALSE(Exists(reader / "d" / "sym"));
  cached("e/sub");
  ASSERT_OK(::rmdir((writer / "e" / "sub").c_str()));
  EXPECT_FALSE(Exists(reader / "e" / "sub"));
  // An xattr change moves ctime.
  struct stat f_before = cached("d/f");
  std::this_thread::sleep_for(10ms);
  ASSERT_OK(::setxattr((writer / "d" / "f").c_str(), "user.k", "v", 1, 0));
  struct stat f_after = Stat(reader / "d" / "f");
  EXPECT_TRUE(f_after.st_ctim.tv_sec != f_before.st_ctim.tv_sec ||
              f_after.st_ctim.tv_nsec != f_before.st_ctim.tv_nsec);
}

TEST_F(BpfCacheTest, EveryChangeIsVisibleAtOnceOnTheSameMount) { ExpectEveryChangeVisible(a_, a_); }

TEST_F(BpfCacheTest, EveryChangeIsVisibleAtOnceOnTheOtherMount) {
  ExpectEveryChangeVisible(a_, b_);
}

TEST_F(BpfCacheTest, PermissionsAreCheckedOnCachedAnswers) {
  ASSERT_OK(::mkdir((a_ / "private").c_str(), 0700));
  WriteFile(a_ / "private" / "f", "secret", 0644);
  Stat(a_ / "private" / "f");  // cached now
  Stat(a_ / "private" / "f");
  std::string path = (a_ / "private" / "f").string();
  EXPECT_EQ(RunAs(kTestUid, kTestGid,
                  [&] {
                    struct stat st;
                    return ErrnoOf(::stat(path.c_str(), &st));
                  }),
            EACCES);
  ASSERT_OK(::chmod((a_ / "private").c_str(), 0755));
  EXPECT_EQ(RunAs(kTestUid, kTestGid,
                  [&] {
                    struct stat st;
                    return ErrnoOf(::stat(path.c_str(), &st));
                  }),
            0);
}

TEST_F(BpfCacheTest, AKilledClientDelaysOthersByOneLeaseAtMost) {
  WriteFile(a_ / "f", "x");
  Stat(b_ / "f");
  Stat(b_ / "f");  // B holds it cached
  ASSERT_EQ(::kill(b_daemon_, SIGKILL), 0);
  auto start = std::chrono::steady_clock::now();
  ASSERT_OK(::chmod((a_ / "f").c_str(), 0600));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s + 1s)
      << "a change waited longer than the lease (2 s) for a dead client";
  EXPECT_EQ(Stat(a_ / "f").st_mode & 07777, 0600u);
}

// Two mounts: A changes, B checks after each change returns that it sees
// exactly the model's state (two_client_stress.h).
TEST_F(BpfCacheTest, RandomizedTwoClientStressFindsNoStaleAnswer) {
  const long ops = RunTwoClientStress(a_, b_, {.operations = StressOperations()});
  if (HasFatalFailure()) return;
  Counters b = ReadStats(b_);
  EXPECT_GT(b.lookup_hit + b.getattr_hit, 0u) << "B never answered from its cache";
  std::printf(
      "stress: %ld operations; B: lookup %lu hits / %lu misses / %lu forwards, getattr "
      "%lu / %lu / %lu\n",
      ops, b.lookup_hit, b.lookup_miss, b.lookup_forward, b.getattr_hit, b.getattr_miss,
      b.getattr_forward);
}

// On a kernel without the hook (the host's stock kernel).
class BpfFallbackTest : public ClusterTest {
 protected:
  void SetUp() override {
    if (BpfCache::HookAvailable().ok())
      GTEST_SKIP() << "this kernel has the FUSE BPF hook: nothing falls back";
    ClusterTest::SetUp();
  }
};

TEST_F(BpfFallbackTest, BpfIsRefusedWithAClearMessage) {
  auto& cluster = StartCluster();
  std::filesystem::path mnt = cluster.dir() / "refused";
  std::filesystem::create_directories(mnt);
  CommandResult r = RunCommand({BinaryPath("sealfs-mount").string(), "--config",
                                cluster.config_path().string(), mnt.string(), "-f", "--bpf"},
                               10s);
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("FUSE BPF hook"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("vm-test/run"), std::string::npos) << r.output;
}

TEST_F(BpfFallbackTest, BpfAutoFallsBackToTheKernelCache) {
  auto& cluster = StartCluster();
  FuseMount& m = cluster.AddMount(MountOptions{.extra_args = {"--bpf=auto"}});
  WriteFile(m.path() / "f", "works");
  EXPECT_EQ(ReadFile(m.path() / "f"), "works");
  EXPECT_NE(ReadFile(m.log()).find("--bpf=auto"), std::string::npos);
}

}  // namespace
}  // namespace sealfs::it
