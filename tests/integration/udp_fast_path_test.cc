// The UDP fast path answered by the servers themselves (no XDP program; with
// SEALFS_TEST_XDP, their programs answer the hot requests):
// GETATTR and LOOKUP datagrams give the answers the mount sees,
// right after every change, and anything that is not an exactly valid
// request gets no answer. And the mount's side: a mount asks over UDP, never
// takes a stray datagram for an answer, and asks over TCP when UDP goes
// unanswered.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "binaries.h"
#include "cluster_net.h"
#include "file_util.h"
#include "fs_test.h"
#include "fuse_mount.h"
#include "ino.h"
#include "netns.h"
#include "two_client_stress.h"
#include "udp_asker.h"
#include "udp_relay.h"
#include "xdp_wire.h"

namespace sealfs::it {
namespace {

using namespace std::chrono_literals;

class UdpFastPathTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    if (IsSkipped()) return;
    StartCluster({.servers = 2, .udp_fast_path = true});
    mnt_ = cluster().AddMount().path();
  }

  // Asks the server that holds `key`'s answer (the home of its inode or
  // directory), as a client does.
  sealfs_xdp_msg Ask(const sealfs_xdp_key& key) {
    return UdpAsker(cluster().address(HomeOf(key.ino)), cluster().udp_port(HomeOf(key.ino)))
        .Ask(key);
  }
  sealfs_xdp_msg Getattr(const std::filesystem::path& p) {
    return Ask(XdpGetattrKey(Stat(p).st_ino));
  }
  sealfs_xdp_msg Lookup(const std::filesystem::path& dir, const std::string& name) {
    return Ask(*XdpLookupKey(Stat(dir).st_ino, name));
  }

  std::filesystem::path mnt_;
};

void ExpectSameAttr(const sealfs_xdp_attr& a, const struct stat& st) {
  EXPECT_EQ(a.ino, st.st_ino);
  EXPECT_EQ(a.mode, st.st_mode);
  EXPECT_EQ(a.nlink, st.st_nlink);
  EXPECT_EQ(a.uid, st.st_uid);
  EXPECT_EQ(a.gid, st.st_gid);
  EXPECT_EQ(a.size, static_cast<uint64_t>(st.st_size));
  EXPECT_EQ(a.mtime_ns, st.st_mtim.tv_sec * 1'000'000'000 + st.st_mtim.tv_nsec);
}

TEST_F(UdpFastPathTest, AnswersWhatTheMountSees) {
  std::filesystem::create_directory(mnt_ / "d");
  WriteFile(mnt_ / "d" / "f", std::string(1234, 'x'));
  const struct stat f = Stat(mnt_ / "d" / "f");

  sealfs_xdp_msg attr = Getattr(mnt_ / "d" / "f");
  EXPECT_EQ(attr.status, 0);
  ExpectSameAttr(attr.payload.attr, f);
  ExpectSameAttr(Getattr(mnt_ / "d").payload.attr, Stat(mnt_ / "d"));

  sealfs_xdp_msg entry = Lookup(mnt_ / "d", "f");
  EXPECT_EQ(entry.status, 0);
  EXPECT_EQ(entry.payload.entry.ino, f.st_ino);
  EXPECT_EQ(entry.payload.entry.mode & S_IFMT, S_IFREG);
  ASSERT_EQ(entry.payload.entry.has_attr, 1) << "files live on their directory's server";
  ExpectSameAttr(entry.payload.entry.attr, f);

  EXPECT_EQ(Lookup(mnt_ / "d", "missing").status, ENOENT);
  // Asked of a server that is not the inode's home: an error, as over TCP.
  ServerId other = HomeOf(f.st_ino) == 1 ? 2 : 1;
  EXPECT_NE(UdpAsker(cluster().address(other), cluster().udp_port(other))
                .Ask(XdpGetattrKey(f.st_ino))
                .status,
            0);
}

TEST_F(UdpFastPathTest, EveryChangeIsSeenAtOnce) {
  std::filesystem::create_directory(mnt_ / "d");
  WriteFile(mnt_ / "d" / "f", "hello");
  const uint64_t before = Getattr(mnt_ / "d" / "f").generation;

  ASSERT_EQ(::truncate((mnt_ / "d" / "f").c_str(), 3), 0);
  ASSERT_EQ(::chmod((mnt_ / "d" / "f").c_str(), 0600), 0);
  sealfs_xdp_msg attr = Getattr(mnt_ / "d" / "f");
  EXPECT_EQ(attr.payload.attr.size, 3u);
  EXPECT_EQ(attr.payload.attr.mode, S_IFREG | 0600u);
  EXPECT_GT(attr.generation, before) << "answers read after a change have a newer generation";
  EXPECT_EQ(Lookup(mnt_ / "d", "f").payload.entry.attr.size, 3u);

  const Ino f = Stat(mnt_ / "d" / "f").st_ino;
  std::filesystem::rename(mnt_ / "d" / "f", mnt_ / "d" / "g");
  EXPECT_EQ(Lookup(mnt_ / "d", "f").status, ENOENT);
  EXPECT_EQ(Lookup(mnt_ / "d", "g").payload.entry.ino, f);
  std::filesystem::remove(mnt_ / "d" / "g");
  EXPECT_EQ(Lookup(mnt_ / "d", "g").status, ENOENT);
  EXPECT_EQ(Ask(XdpGetattrKey(f)).status, ENOENT);
}

TEST_F(UdpFastPathTest, OnlyExactlyValidRequestsAreAnswered) {
  WriteFile(mnt_ / "f", "x");
  const sealfs_xdp_key key = XdpGetattrKey(Stat(mnt_ / "f").st_ino);
  UdpAsker asker(cluster().address(HomeOf(key.ino)), cluster().udp_port(HomeOf(key.ino)));
  const sealfs_xdp_msg good = XdpRequest(key, 1);
  auto bytes = [](const sealfs_xdp_msg& m) {
    const auto* p = reinterpret_cast<const uint8_t*>(&m);
    return std::vector<uint8_t>(p, p + sizeof(m));
  };
  std::vector<std::vector<uint8_t>> bad;
  bad.push_back(bytes(good));
  bad.back().pop_back();
  bad.push_back(bytes(good));
  bad.back().push_back(0);
  for (auto edit :
       {+[](sealfs_xdp_msg& m) { m.magic = 0; }, +[](sealfs_xdp_msg& m) { m.version = 2; },
        +[](sealfs_xdp_msg& m) { m.flags = SEALFS_XDP_FLAG_REPLY; },
        +[](sealfs_xdp_msg& m) { m.key.op = 9; },
        +[](sealfs_xdp_msg& m) { m.key.name[3] = 'z'; }}) {
    sealfs_xdp_msg m = good;
    edit(m);
    bad.push_back(bytes(m));
  }
  bad.push_back({});
  for (size_t i = 0; i < bad.size(); ++i)
    EXPECT_FALSE(asker.Exchange(bad[i], 200ms)) << "datagram " << i << " was answered";
  EXPECT_EQ(asker.Ask(key).status, 0) << "the server still answers";
}

// A second mount whose cluster file names a relay (udp_relay.h) in place of
// each server's UDP port; attributes are never cached in its kernel, so every
// stat asks.
class MountOverUdpTest : public UdpFastPathTest {
 protected:
  void SetUp() override {
    for (const std::string& arg : ExtraMountArgs()) {
      if (arg.starts_with("--bpf"))
        GTEST_SKIP() << "mounts use " << arg << " (SEALFS_TEST_MOUNT_ARGS): its reads register "
                     << "for invalidation, so they go over TCP; these tests are about the "
                     << "plain reads";
    }
    UdpFastPathTest::SetUp();
  }
  void TearDown() override {
    relayed_.reset();  // while the servers still answer
    UdpFastPathTest::TearDown();
  }

  const std::filesystem::path& MountThroughRelays(UdpRelay::Mode mode) {
    std::string config = ReadFile(cluster().config_path());
    for (int id = 1; id <= cluster().server_count(); ++id) {
      std::optional<InNetns> in_server_ns;
      if (!cluster().server_netns(id).empty()) in_server_ns.emplace(cluster().server_netns(id));
      relays_.push_back(
          std::make_unique<UdpRelay>(cluster().address(id), cluster().udp_port(id), mode));
      const std::string line = "udp_port = " + std::to_string(cluster().udp_port(id)) + "\n";
      const size_t at = config.find(line);
      if (at == std::string::npos)
        throw std::runtime_error("no '" + line + "' in the cluster file");
      config.replace(at, line.size(),
                     "udp_port = " + std::to_string(relays_.back()->port()) + "\n");
    }
    const std::filesystem::path file = cluster().dir() / "relayed.toml";
    WriteFile(file, config);
    relayed_ = std::make_unique<FuseMount>(file, cluster().dir() / "mnt-relayed",
                                           cluster().dir() / "mount-relayed.log",
                                           MountOptions{.attr_timeout = 0});
    relayed_->Mount();
    return relayed_->path();
  }

  uint64_t RelayedRequests() const {
    uint64_t n = 0;
    for (const auto& r : relays_) n += r->requests();
    return n;
  }

  std::vector<std::unique_ptr<UdpRelay>> relays_;
  std::unique_ptr<FuseMount> relayed_;
};

TEST_F(MountOverUdpTest, AsksOverUdpAndSeesEveryChange) {
  const std::filesystem::path relayed = MountThroughRelays(UdpRelay::Mode::kForward);
  std::filesystem::create_directory(mnt_ / "d");
  WriteFile(mnt_ / "d" / "f", "hello");
  const uint64_t before = RelayedRequests();
  struct stat f = Stat(relayed / "d" / "f");
  EXPECT_EQ(f.st_ino, Stat(mnt_ / "d" / "f").st_ino);
  EXPECT_EQ(f.st_size, 5);
  EXPECT_GT(RelayedRequests(), before) << "the relayed mount did not ask over UDP";

  // Changes made through the other mount are seen by the very next stat.
  ASSERT_EQ(::chmod((mnt_ / "d" / "f").c_str(), 0604), 0);
  EXPECT_EQ(Stat(relayed / "d" / "f").st_mode, S_IFREG | 0604u);
  ASSERT_EQ(::truncate((mnt_ / "d" / "f").c_str(), 2), 0);
  EXPECT_EQ(Stat(relayed / "d" / "f").st_size, 2);
  std::filesystem::rename(mnt_ / "d" / "f", mnt_ / "d" / "g");
  EXPECT_FALSE(Exists(relayed / "d" / "f"));
  EXPECT_EQ(Stat(relayed / "d" / "g").st_ino, f.st_ino);
  // Through the relayed mount itself, and a name too long for a datagram.
  const std::string long_name(200, 'n');
  WriteFile(relayed / "d" / long_name, "abc");
  EXPECT_EQ(Stat(relayed / "d" / long_name).st_size, 3);
  EXPECT_EQ(ReadFile(mnt_ / "d" / long_name), "abc");
  EXPECT_EQ(ReadFile(relayed / "d" / "g"), "he");
}

// The mount through the relays stats after every change made through the
// other mount returns, over at least 100,000 operations
// (two_client_stress.h): no answer is ever older than the last acknowledged
// change.
TEST_F(MountOverUdpTest, TwoClientStressOverUdpFindsNoStaleAnswer) {
  const std::filesystem::path relayed = MountThroughRelays(UdpRelay::Mode::kForward);
  const long ops = RunTwoClientStress(mnt_, relayed, {.operations = StressOperations()});
  if (HasFatalFailure()) return;
  uint64_t answers = 0;
  for (const auto& r : relays_) answers += r->answers();
  EXPECT_GT(answers, static_cast<uint64_t>(ops) / 2) << "most stats were answered over UDP";
  std::printf("stress: %ld operations; %lu UDP answers\n", ops, answers);
}

TEST_F(MountOverUdpTest, StrayDatagramsAreNotTakenForAnswers) {
  const std::filesystem::path relayed = MountThroughRelays(UdpRelay::Mode::kDecoysFirst);
  std::filesystem::create_directory(mnt_ / "d");
  for (int i = 0; i < 50; ++i) WriteFile(mnt_ / "d" / std::to_string(i), std::string(i, 'x'));
  for (int i = 0; i < 50; ++i) {
    const std::filesystem::path p = relayed / "d" / std::to_string(i);
    struct stat st = Stat(p);
    EXPECT_EQ(st.st_size, i) << p;
    EXPECT_EQ(st.st_mode, S_IFREG | 0644u) << p;
    EXPECT_EQ(st.st_ino, Stat(mnt_ / "d" / std::to_string(i)).st_ino) << p;
  }
  uint64_t answers = 0;
  for (const auto& r : relays_) answers += r->answers();
  EXPECT_GE(answers, 100u) << "every file was asked about over UDP (LOOKUP and GETATTR)";
}

TEST_F(MountOverUdpTest, UnansweredUdpGoesOverTcpAndIsPaused) {
  const std::filesystem::path relayed = MountThroughRelays(UdpRelay::Mode::kDrop);
  const auto start = std::chrono::steady_clock::now();
  std::filesystem::create_directory(relayed / "d");
  for (int i = 0; i < 100; ++i) {
    WriteFile(relayed / "d" / std::to_string(i), std::string(i, 'y'));
    EXPECT_EQ(Stat(relayed / "d" / std::to_string(i)).st_size, i);
  }
  EXPECT_EQ(ListDir(relayed / "d").size(), 100u);
  const auto took = std::chrono::steady_clock::now() - start;
  // Each server is asked three times (a 20 ms timeout each), then not for a
  // second, then for twice as long...: far fewer than the hundreds of
  // GETATTRs and LOOKUPs above.
  EXPECT_LT(RelayedRequests(), 40u);
  EXPECT_LT(took, 20s) << "every request waited for its UDP timeout";
}

// --xdp on an interface where the program cannot be attached: one log line,
// and every datagram is answered in user space.
class XdpFallbackTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    if (IsSkipped()) return;
    // That mode gives every server a udp_port and its own --xdp.
    if (XdpModeFromEnv()) GTEST_SKIP() << "sets the servers' --xdp itself; SEALFS_TEST_XDP is set";
  }
};

TEST_F(XdpFallbackTest, WithoutTheProgramUserSpaceAnswers) {
  StartCluster({.servers = 1,
                .udp_fast_path = true,
                .server_args = {{1, {"--xdp", "no-such-if0", "--xdp-mode", "generic"}}}});
  const std::string logs = cluster().LogTails();
  EXPECT_NE(logs.find("XDP fast path: no network interface no-such-if0"), std::string::npos)
      << logs;
  EXPECT_EQ(UdpAsker(cluster().address(1), cluster().udp_port(1))
                .Ask(XdpGetattrKey(MakeIno(1, 1)))
                .status,
            0);
}

TEST_F(XdpFallbackTest, XdpNeedsAUdpPort) {
  EXPECT_THROW(StartCluster({.servers = 1, .server_args = {{1, {"--xdp", "lo"}}}}),
               std::runtime_error);
}

}  // namespace
}  // namespace sealfs::it
