// The UDP fast path answered by the servers themselves (no XDP program):
// GETATTR and LOOKUP datagrams on loopback give the answers the mount sees,
// right after every change, and anything that is not an exactly valid
// request gets no answer.
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

#include "file_util.h"
#include "fs_test.h"
#include "ino.h"
#include "udp_asker.h"
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
    return UdpAsker("127.0.0.1", cluster().udp_port(HomeOf(key.ino))).Ask(key);
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
  EXPECT_NE(UdpAsker("127.0.0.1", cluster().udp_port(other)).Ask(XdpGetattrKey(f.st_ino)).status,
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
  UdpAsker asker("127.0.0.1", cluster().udp_port(HomeOf(key.ino)));
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

// --xdp on an interface where the program cannot be attached: one log line,
// and every datagram is answered in user space.
using XdpFallbackTest = ClusterTest;

TEST_F(XdpFallbackTest, WithoutTheProgramUserSpaceAnswers) {
  StartCluster({.servers = 1,
                .udp_fast_path = true,
                .server_args = {{1, {"--xdp", "no-such-if0", "--xdp-mode", "generic"}}}});
  const std::string logs = cluster().LogTails();
  EXPECT_NE(logs.find("XDP fast path: no network interface no-such-if0"), std::string::npos)
      << logs;
  EXPECT_EQ(UdpAsker("127.0.0.1", cluster().udp_port(1)).Ask(XdpGetattrKey(MakeIno(1, 1))).status,
            0);
}

TEST_F(XdpFallbackTest, XdpNeedsAUdpPort) {
  EXPECT_THROW(StartCluster({.servers = 1, .server_args = {{1, {"--xdp", "lo"}}}}),
               std::runtime_error);
}

}  // namespace
}  // namespace sealfs::it
