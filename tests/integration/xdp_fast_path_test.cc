// The XDP fast path for real: a cluster in a network namespace of the test's
// own, server 2 with `--xdp` (generic mode) on its end of a veth pair, and
// GETATTR/LOOKUP datagrams sent from a second namespace through the veth.
// Hot answers come from the program, every change made through the mount -
// including steps other servers' operations prepare on server 2 - is seen
// at once; SIGTERM detaches the program and removes its pins, and the
// program a killed run left is removed by the next start or by
// sealfs-fsck --repair. Needs root.
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "cluster_net.h"
#include "file_util.h"
#include "fs_test.h"
#include "netns_pair.h"
#include "subprocess.h"
#include "udp_asker.h"
#include "xdp_counters.h"
#include "xdp_wire.h"

namespace sealfs::it {
namespace {

using namespace std::chrono_literals;
using Counters = std::vector<uint64_t>;

constexpr int kXdpServer = 2;

class XdpFastPathTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    if (IsSkipped()) return;
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces, veth, XDP)";
    // A cluster of that mode builds a network of its own and moves this thread into it: it
    // would leave the namespace pair below and put XDP on every server. The plain run of the
    // suite runs these tests.
    if (XdpModeFromEnv()) GTEST_SKIP() << "makes its own network; SEALFS_TEST_XDP is set";
    net_ = std::make_unique<NetnsPair>();
    in_server_ns_ = std::make_unique<InNetns>(net_->server_ns());
    StartCluster(
        {.servers = 2,
         .udp_fast_path = true,
         .server_args = {{kXdpServer, {"--xdp", net_->server_if(), "--xdp-mode", "generic"}}}});
    started_ = true;
    pin_dir_ = cluster().xdp_pin_dir(kXdpServer);
    // The mount asks over TCP only: the program's map then holds exactly the
    // answers the test's own datagrams made the server fill.
    mnt_ = cluster().AddMount({.extra_args = {"--udp-timeout-us", "0"}}).path();
    InNetns client(net_->client_ns());
    for (int id = 1; id <= 2; ++id) {
      askers_.push_back(
          std::make_unique<UdpAsker>(NetnsPair::kServerAddress, cluster().udp_port(id),
                                     UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0))));
    }
  }

  void TearDown() override {
    // SIGTERM, not the cluster's kill -9: the server detaches and unpins.
    if (started_ && cluster().ServerRunning(kXdpServer)) {
      EXPECT_EQ(cluster().StopServer(kXdpServer), 0);
    }
    ClusterTest::TearDown();
    in_server_ns_.reset();
    net_.reset();
  }

  sealfs_xdp_msg Ask(const sealfs_xdp_key& key) {
    return askers_.at(HomeOf(key.ino) - 1)->Ask(key);
  }

  Counters ReadCounters() { return ReadXdpCounters(pin_dir_); }

  // A new directory under the mount whose inode lives on server `home`.
  std::filesystem::path DirOn(int home) {
    for (int i = 0; i < 64; ++i) {
      std::filesystem::path d = mnt_ / ("d" + std::to_string(home) + "_" + std::to_string(i));
      std::filesystem::create_directory(d);
      if (HomeOf(Stat(d).st_ino) == home) return d;
    }
    throw std::runtime_error("no directory landed on server " + std::to_string(home));
  }

  bool started_ = false;
  std::unique_ptr<NetnsPair> net_;
  std::unique_ptr<InNetns> in_server_ns_;
  std::vector<std::unique_ptr<UdpAsker>> askers_;
  std::filesystem::path pin_dir_;  // server 2's
  std::filesystem::path mnt_;
};

void ExpectCurrent(const sealfs_xdp_attr& a, const std::filesystem::path& p) {
  const struct stat st = Stat(p);
  EXPECT_EQ(a.ino, st.st_ino) << p;
  EXPECT_EQ(a.mode, st.st_mode) << p;
  EXPECT_EQ(a.nlink, st.st_nlink) << p;
  EXPECT_EQ(a.size, static_cast<uint64_t>(st.st_size)) << p;
  EXPECT_EQ(a.ctime_ns, st.st_ctim.tv_sec * 1'000'000'000 + st.st_ctim.tv_nsec) << p;
}

TEST_F(XdpFastPathTest, HotAnswersComeFromTheProgram) {
  const std::filesystem::path dir = DirOn(kXdpServer);
  WriteFile(dir / "f", std::string(1000, 'x'));
  const sealfs_xdp_key attr_key = XdpGetattrKey(Stat(dir / "f").st_ino);
  const sealfs_xdp_key name_key = *XdpLookupKey(Stat(dir).st_ino, "f");
  for (const sealfs_xdp_key& key : {attr_key, name_key}) {
    const Counters before = ReadCounters();
    const sealfs_xdp_msg from_user_space = Ask(key);
    const sealfs_xdp_msg from_program = Ask(key);
    const Counters after = ReadCounters();
    EXPECT_EQ(after[SEALFS_XDP_MISS] - before[SEALFS_XDP_MISS], 1u);
    EXPECT_EQ(after[SEALFS_XDP_HIT] - before[SEALFS_XDP_HIT], 1u);
    EXPECT_EQ(from_program.status, 0);
    EXPECT_EQ(from_program.generation, from_user_space.generation);
    EXPECT_EQ(
        std::memcmp(&from_program.payload, &from_user_space.payload, sizeof(from_program.payload)),
        0)
        << "the program answers exactly what the server answered";
  }
  ExpectCurrent(Ask(attr_key).payload.attr, dir / "f");
  ExpectCurrent(Ask(name_key).payload.entry.attr, dir / "f");
}

TEST_F(XdpFastPathTest, EveryChangeIsSeenAtOnce) {
  const std::filesystem::path dir = DirOn(kXdpServer);
  const std::filesystem::path other_dir = DirOn(1);
  WriteFile(dir / "f", "hello");
  const Ino f = Stat(dir / "f").st_ino;
  const sealfs_xdp_key attr_key = XdpGetattrKey(f);
  const Ino dir_ino = Stat(dir).st_ino;
  // Asks twice: the first answer may come from user space and fill the map,
  // the second then comes from the program; both must be current.
  auto expect_current = [&](const std::filesystem::path& name) {
    for (int i = 0; i < 2; ++i) {
      ExpectCurrent(Ask(attr_key).payload.attr, name);
      sealfs_xdp_msg entry = Ask(*XdpLookupKey(dir_ino, name.filename().string()));
      EXPECT_EQ(entry.status, 0);
      ExpectCurrent(entry.payload.entry.attr, name);
    }
  };
  expect_current(dir / "f");
  const Counters before = ReadCounters();

  for (int size = 0; size < 100; ++size) {
    ASSERT_EQ(::truncate((dir / "f").c_str(), size), 0);
    expect_current(dir / "f");
  }
  ASSERT_EQ(::chmod((dir / "f").c_str(), 0600), 0);
  expect_current(dir / "f");
  // Coordinated by server 1, applied on server 2 as a prepared step.
  std::filesystem::create_hard_link(dir / "f", other_dir / "h");
  expect_current(dir / "f");
  EXPECT_EQ(Ask(attr_key).payload.attr.nlink, 2u);
  std::filesystem::remove(other_dir / "h");
  expect_current(dir / "f");
  std::filesystem::rename(dir / "f", dir / "g");
  EXPECT_EQ(Ask(*XdpLookupKey(dir_ino, "f")).status, ENOENT);
  expect_current(dir / "g");
  std::filesystem::remove(dir / "g");
  EXPECT_EQ(Ask(*XdpLookupKey(dir_ino, "g")).status, ENOENT);
  EXPECT_EQ(Ask(attr_key).status, ENOENT);

  const Counters after = ReadCounters();
  EXPECT_GE(after[SEALFS_XDP_HIT] - before[SEALFS_XDP_HIT], 200u) << "half the answers at least";
  EXPECT_EQ(after[SEALFS_XDP_KEY_MISMATCH], 0u);
  EXPECT_EQ(after[SEALFS_XDP_PASS_TORN], 0u);
}

TEST_F(XdpFastPathTest, AKilledRunsProgramIsRemovedAtTheNextStart) {
  const std::filesystem::path dir = DirOn(kXdpServer);
  WriteFile(dir / "f", "12345");
  const sealfs_xdp_key key = XdpGetattrKey(Stat(dir / "f").st_ino);
  Ask(key);
  const Counters before = ReadCounters();
  cluster().KillServer(kXdpServer);
  // Left attached, the program answers from its map: nothing can change the
  // server's metadata while it is down.
  EXPECT_EQ(Ask(key).payload.attr.size, 5u);
  EXPECT_EQ(ReadCounters()[SEALFS_XDP_HIT], before[SEALFS_XDP_HIT] + 1);
  cluster().StartServer(kXdpServer);
  EXPECT_NE(cluster().LogTails().find(
                "XDP fast path: detached the program an earlier run left on " + net_->server_if()),
            std::string::npos);
  EXPECT_EQ(ReadCounters()[SEALFS_XDP_HIT], 0u) << "a new program with new maps";
  ASSERT_EQ(::truncate((dir / "f").c_str(), 2), 0);
  EXPECT_EQ(Ask(key).payload.attr.size, 2u);
  EXPECT_EQ(Ask(key).payload.attr.size, 2u);
  EXPECT_EQ(ReadCounters()[SEALFS_XDP_HIT], 1u);
}

TEST_F(XdpFastPathTest, FsckRepairRemovesAKilledRunsProgram) {
  cluster().KillServer(kXdpServer);
  EXPECT_TRUE(std::filesystem::exists(pin_dir_ / "answers"));
  cluster().StopServer(1);
  CommandResult fsck = cluster().Fsck(/*repair=*/true);
  EXPECT_EQ(fsck.status, 0) << fsck.output;
  EXPECT_FALSE(std::filesystem::exists(pin_dir_));
  const std::string link =
      RunCommand({"/usr/sbin/ip", "link", "show", "dev", net_->server_if()}, 10s).output;
  EXPECT_EQ(link.find("prog/xdp"), std::string::npos) << link;
}

TEST_F(XdpFastPathTest, StoppingDetachesAndUnpins) {
  EXPECT_TRUE(std::filesystem::exists(pin_dir_ / "answers"));
  EXPECT_TRUE(std::filesystem::exists(pin_dir_ / "counters"));
  const auto link = [&] {
    return RunCommand({"/usr/sbin/ip", "link", "show", "dev", net_->server_if()}, 10s).output;
  };
  EXPECT_NE(link().find("prog/xdp"), std::string::npos) << link();
  EXPECT_EQ(cluster().StopServer(kXdpServer), 0);
  EXPECT_FALSE(std::filesystem::exists(pin_dir_));
  EXPECT_EQ(link().find("prog/xdp"), std::string::npos) << link();
  const std::string logs = cluster().LogTails();
  EXPECT_NE(
      logs.find("XDP fast path: program attached to " + net_->server_if() + " in generic mode"),
      std::string::npos);
  EXPECT_NE(logs.find("frames seen"), std::string::npos);
}

}  // namespace
}  // namespace sealfs::it
