// The suite's XDP mode (SEALFS_TEST_XDP=generic|native, support/cluster_net.h) does what it
// says: every server of a cluster has its XDP program attached in that mode, on the
// interface a mount's traffic to it goes through. Skipped without SEALFS_TEST_XDP.
#include <bpf/bpf.h>

#include <filesystem>
#include <string>

#include "bpf_pins.h"
#include "cluster_net.h"
#include "file_util.h"
#include "fs_test.h"
#include "sealfs_xdp.h"
#include "unique_fd.h"

namespace sealfs::it {
namespace {

class XdpModeTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    if (IsSkipped()) return;
    if (!XdpModeFromEnv()) GTEST_SKIP() << "SEALFS_TEST_XDP is not set";
  }

  // The frames server id's program has seen so far.
  uint64_t FramesSeen(int id) {
    const std::filesystem::path pin = cluster().xdp_pin_dir(id) / "counters";
    UniqueFd fd(bpf_obj_get(pin.c_str()));
    if (!fd) throw std::runtime_error("no pinned counters at " + pin.string());
    Result<std::vector<uint64_t>> c = SumPerCpuCounters(fd.get(), SEALFS_XDP_COUNTERS);
    if (!c.ok()) throw std::runtime_error(c.status().ToString());
    return (*c)[SEALFS_XDP_RECEIVED];
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
  for (int id = 1; id <= cluster.server_count(); ++id) before.push_back(FramesSeen(id));
  // 64 chunks of 64 KiB: every server holds some of them.
  auto& mount = cluster.AddMount();
  WriteFile(mount.path() / "f", std::string(64 * kSmallChunkSize, 'x'));
  EXPECT_EQ(ReadFile(mount.path() / "f").size(), 64 * kSmallChunkSize);
  for (int id = 1; id <= cluster.server_count(); ++id) {
    SCOPED_TRACE("server " + std::to_string(id));
    EXPECT_GT(FramesSeen(id), before[id - 1]);
  }
}

}  // namespace
}  // namespace sealfs::it
