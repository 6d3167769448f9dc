// The suite's XDP mode (SEALFS_TEST_XDP=generic|native, support/cluster_net.h) does what it
// says: every server of a cluster has its XDP program attached in that mode, on the
// interface a mount's traffic to it goes through, and the program answers the mount's hot
// GETATTR and LOOKUP datagrams. Skipped without SEALFS_TEST_XDP.
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "binaries.h"
#include "cluster_net.h"
#include "file_util.h"
#include "fs_test.h"
#include "sealfs_xdp.h"
#include "two_client_stress.h"
#include "xdp_counters.h"

namespace sealfs::it {
namespace {

class XdpModeTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    if (IsSkipped()) return;
    if (!XdpModeFromEnv()) GTEST_SKIP() << "SEALFS_TEST_XDP is not set";
  }

  // Counter `which` (enum sealfs_xdp_counter) of every server's program, summed.
  uint64_t Total(sealfs_xdp_counter which) {
    uint64_t sum = 0;
    for (int id = 1; id <= cluster().server_count(); ++id)
      sum += ReadXdpCounters(cluster().xdp_pin_dir(id))[which];
    return sum;
  }
};

TEST_F(XdpModeTest, EveryServersProgramSeesTheMountsTraffic) {
  auto& cluster = StartCluster({.chunk_size = kSmallChunkSize});
  const std::string attached = std::string("XDP fast path: program attached to ") +
                               ClusterNet::kServerInterface + " in " +
                               XdpModeName(*cluster.xdp_mode()) + " mode";
  const std::string logs = cluster.LogTails();
  int attached_count = 0;
  for (size_t at = logs.find(attached); at != std::string::npos; at = logs.find(attached, at + 1))
    ++attached_count;
  EXPECT_EQ(attached_count, cluster.server_count()) << "servers logging \"" << attached << "\"";
  std::vector<uint64_t> before;
  for (int id = 1; id <= cluster.server_count(); ++id)
    before.push_back(ReadXdpCounters(cluster.xdp_pin_dir(id))[SEALFS_XDP_RECEIVED]);
  // 64 chunks of 64 KiB: every server holds some of them.
  auto& mount = cluster.AddMount();
  WriteFile(mount.path() / "f", std::string(64 * kSmallChunkSize, 'x'));
  EXPECT_EQ(ReadFile(mount.path() / "f").size(), 64 * kSmallChunkSize);
  for (int id = 1; id <= cluster.server_count(); ++id) {
    SCOPED_TRACE("server " + std::to_string(id));
    EXPECT_GT(ReadXdpCounters(cluster.xdp_pin_dir(id))[SEALFS_XDP_RECEIVED], before[id - 1]);
  }
}

TEST_F(XdpModeTest, TheProgramsAnswerTheMountsHotLookups) {
  for (const std::string& arg : ExtraMountArgs()) {
    if (arg.starts_with("--bpf")) GTEST_SKIP() << "mounts with " << arg << " ask over TCP only";
  }
  auto& cluster = StartCluster();
  // No attribute cache: every stat reaches the mount, which asks over UDP.
  const std::filesystem::path mnt = cluster.AddMount({.attr_timeout = 0}).path();
  std::filesystem::create_directory(mnt / "d");
  WriteFile(mnt / "d" / "f", "hello");
  const uint64_t hits = Total(SEALFS_XDP_HIT);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Stat(mnt / "d" / "f").st_size, 5);
  EXPECT_GE(Total(SEALFS_XDP_HIT) - hits, 20u) << "one GETATTR or LOOKUP per stat at least";
}

// One mount changes, the other stats after each change returns, its kernel
// caching nothing, over at least 100,000 operations (two_client_stress.h):
// the answers the programs give it are never older than the last
// acknowledged change.
TEST_F(XdpModeTest, TwoClientStressAnsweredByTheProgramsFindsNoStaleAnswer) {
  for (const std::string& arg : ExtraMountArgs()) {
    if (arg.starts_with("--bpf")) GTEST_SKIP() << "mounts with " << arg << " ask over TCP only";
  }
  auto& cluster = StartCluster();
  const std::filesystem::path a = cluster.AddMount().path();
  const std::filesystem::path b = cluster.AddMount({.attr_timeout = 0}).path();
  const uint64_t hits = Total(SEALFS_XDP_HIT), misses = Total(SEALFS_XDP_MISS);
  const long ops = RunTwoClientStress(a, b, {.operations = StressOperations()});
  if (HasFatalFailure()) return;
  const uint64_t hit = Total(SEALFS_XDP_HIT) - hits, missed = Total(SEALFS_XDP_MISS) - misses;
  EXPECT_GT(hit, static_cast<uint64_t>(ops) / 4) << "the programs answered few of B's stats";
  std::printf("stress: %ld operations; the programs answered %lu datagrams, missed %lu\n", ops, hit,
              missed);
}

}  // namespace
}  // namespace sealfs::it
