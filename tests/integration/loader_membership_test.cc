// sealfs-loader apply and status: a new membership version reaches every server and every
// running mount (without a remount), survives restarts, and a server that missed it catches
// up from whoever has it; bad cluster files and unsigned changes are refused and change
// nothing.
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "cluster_config.h"
#include "cluster_secret.h"
#include "file_util.h"
#include "fs_test.h"
#include "membership.h"
#include "rpc_channel.h"
#include "syscall_assertions.h"

namespace sealfs::it {
namespace {

class LoaderMembershipTest : public ClusterTest {
 protected:
  // Every server's membership version, from `sealfs-loader status --json`.
  std::vector<uint64_t> Versions() {
    const auto r = cluster().Loader({"status", "--json", cluster().config_path().string()});
    std::vector<uint64_t> versions;
    const std::regex version(R"("version": (\d+))");
    for (std::sregex_iterator it(r.output.begin(), r.output.end(), version), end; it != end; ++it)
      versions.push_back(std::stoull((*it)[1]));
    EXPECT_EQ(versions.size(), static_cast<size_t>(cluster().server_count())) << r.output;
    return versions;
  }

  void ExpectAllOn(uint64_t version) {
    for (uint64_t v : Versions()) EXPECT_EQ(v, version);
  }

  // The cluster file with `edit` applied to its text, written beside it.
  std::filesystem::path EditedClusterFile(const std::string& name,
                                          const std::function<void(std::string*)>& edit) {
    std::ifstream in(cluster().config_path());
    std::stringstream text;
    text << in.rdbuf();
    std::string s = text.str();
    edit(&s);
    const auto path = cluster().dir() / name;
    std::ofstream(path) << s;
    return path;
  }

  // Runs `apply` on `file` and expects a refusal that names `problem`, with every server
  // still on version 1.
  void ExpectRefused(const std::filesystem::path& file, const std::string& problem) {
    const auto r = cluster().Loader({"apply", file.string()});
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find(problem), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("nothing was changed"), std::string::npos) << r.output;
    ExpectAllOn(1);
  }
};

void ReplaceFirst(std::string* s, const std::string& from, const std::string& to) {
  size_t at = s->find(from);
  ASSERT_NE(at, std::string::npos) << from;
  s->replace(at, from.size(), to);
}

TEST_F(LoaderMembershipTest, ApplyReachesEveryServerAndRunningMount) {
  auto& cluster = StartCluster();
  auto& mount = cluster.AddMount();
  WriteFile(mount.path() / "before", "written under version 1");
  ExpectAllOn(1);

  const auto r = cluster.Loader({"apply", cluster.config_path().string()});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("all 3 servers are on membership version 2"), std::string::npos)
      << r.output;
  ExpectAllOn(2);

  // The mount still stamps version 1: its next requests are answered with version 2, which
  // it takes, and go again.
  EXPECT_EQ(ReadFile(mount.path() / "before"), "written under version 1");
  ASSERT_OK(::mkdir((mount.path() / "dir").c_str(), 0755));
  for (int i = 0; i < 20; ++i)
    WriteFile(mount.path() / "dir" / std::to_string(i), std::string(70000 + i, 'a' + i % 26));
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(ReadFile(mount.path() / "dir" / std::to_string(i)),
              std::string(70000 + i, 'a' + i % 26));

  // Applying the same file again changes nothing.
  const auto again = cluster.Loader({"apply", cluster.config_path().string()});
  EXPECT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("already has this membership as version 2"), std::string::npos)
      << again.output;
  ExpectAllOn(2);

  // Servers keep the version they took; a new mount with the version-1 file learns version 2.
  cluster.UnmountAll();
  cluster.StopAllServers();
  cluster.StartAllServers();
  ExpectAllOn(2);
  auto& fresh = cluster.AddMount();
  EXPECT_EQ(ReadFile(fresh.path() / "dir" / "7"), std::string(70007, 'h'));
  cluster.UnmountAll();
  cluster.StopAllServers();
  const auto fsck = cluster.Fsck();
  EXPECT_EQ(fsck.status, 0) << fsck.output;
}

TEST_F(LoaderMembershipTest, AServerThatMissedAVersionCatchesUpFromAClient) {
  auto& cluster = StartCluster({.chunk_size = kSmallChunkSize});
  auto& mount = cluster.AddMount();
  WriteFile(mount.path() / "f", "data");
  // Version 2 reaches servers 1 and 2 only, as when the loader dies half-way.
  Result<ClusterConfig> config = LoadClusterConfig(cluster.config_path().string());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  Result<ClusterSecret> secret = ClusterSecret::Load(cluster.secret_path().string());
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  config->version = 2;
  const SignedMembership record = MakeMembership(*config, &*secret);
  for (int id : {1, 2}) {
    RpcChannel channel(*config->Find(static_cast<ServerId>(id)), 0, std::chrono::seconds(3));
    SignedMembership offer = record;
    MembershipVersion resp;
    ASSERT_TRUE(channel.Call(Op::kMembershipOffer, offer, &resp, true).ok());
    EXPECT_EQ(resp.version, 2u);
  }
  EXPECT_EQ(Versions(), (std::vector<uint64_t>{2, 2, 1}));

  // The mount learns version 2 from server 1 or 2 and hands it to server 3 when it is
  // behind. A 1 MiB file has chunks on every server, so writing it reaches server 3.
  std::string big(1 << 20, 'x');
  WriteFile(mount.path() / "big", big);
  EXPECT_EQ(ReadFile(mount.path() / "big"), big);
  ExpectAllOn(2);
}

TEST_F(LoaderMembershipTest, UnsignedOrWronglySignedMembershipsAreRefused) {
  auto& cluster = StartCluster();
  Result<ClusterConfig> config = LoadClusterConfig(cluster.config_path().string());
  ASSERT_TRUE(config.ok());
  config->version = 5;
  RpcChannel channel(*config->Find(1), 0, std::chrono::seconds(3));
  MembershipVersion resp;
  SignedMembership unsigned_record = MakeMembership(*config, nullptr);
  Result<Reply> r = channel.Call(Op::kMembershipOffer, Encode(unsigned_record), {}, true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, EPERM);

  // A secret of another cluster.
  const auto other = cluster.dir() / "other.key";
  ASSERT_EQ(cluster.Loader({"secret", "new", other.string()}).status, 0);
  Result<ClusterSecret> wrong = ClusterSecret::Load(other.string());
  ASSERT_TRUE(wrong.ok());
  SignedMembership wrongly_signed = MakeMembership(*config, &*wrong);
  r = channel.Call(Op::kMembershipOffer, Encode(wrongly_signed), {}, true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, EPERM);

  // apply with the other cluster's secret: every server refuses, nothing changes.
  const auto file = EditedClusterFile("wrong-secret.toml", [&](std::string* s) {
    ReplaceFirst(s, cluster.secret_path().string(), other.string());
  });
  const auto applied = cluster.Loader({"apply", file.string()});
  EXPECT_EQ(applied.status, 1) << applied.output;
  EXPECT_NE(applied.output.find("has no cluster secret, or another one than " + other.string()),
            std::string::npos)
      << applied.output;
  ExpectAllOn(1);
}

TEST_F(LoaderMembershipTest, BadClusterFilesAreRefusedAndChangeNothing) {
  auto& cluster = StartCluster();

  ExpectRefused(
      EditedClusterFile("malformed.toml", [](std::string* s) { *s += "\n[[server]\nid"; }),
      "malformed.toml:");
  ExpectRefused(EditedClusterFile("duplicate.toml",
                                  [](std::string* s) { ReplaceFirst(s, "id = 2", "id = 1"); }),
                "server id 1 is listed twice");
  // Server 3's entry with a port nothing listens on.
  const std::string port3 = "port = " + std::to_string(cluster.port(3));
  ExpectRefused(EditedClusterFile("unreachable.toml",
                                  [&](std::string* s) { ReplaceFirst(s, port3, "port = 1"); }),
                "server 3 cannot be asked");
  // Ids 2 and 3 swapped: the addresses answer as the other server.
  ExpectRefused(EditedClusterFile("swapped.toml",
                                  [](std::string* s) {
                                    ReplaceFirst(s, "id = 2", "id = 9");
                                    ReplaceFirst(s, "id = 3", "id = 2");
                                    ReplaceFirst(s, "id = 9", "id = 3");
                                  }),
                "answers as server");
  ExpectRefused(
      EditedClusterFile("root.toml", [](std::string* s) { *s = "root_server = 2\n" + *s; }),
      "root_server is 2 but the root directory lives on server 1");
  ExpectRefused(
      EditedClusterFile("chunks.toml", [](std::string* s) { *s = "chunk_size = 131072\n" + *s; }),
      "chunk_size is 131072");
  ExpectRefused(EditedClusterFile("nosecret.toml",
                                  [](std::string* s) {
                                    size_t at = s->find("secret_file");
                                    s->erase(at, s->find('\n', at) - at);
                                  }),
                "names no secret_file");
  const auto loose = cluster.dir() / "loose.key";
  ASSERT_EQ(cluster.Loader({"secret", "new", loose.string()}).status, 0);
  ASSERT_OK(::chmod(loose.c_str(), 0644));
  ExpectRefused(EditedClusterFile("loose.toml",
                                  [&](std::string* s) {
                                    ReplaceFirst(s, cluster.secret_path().string(), loose.string());
                                  }),
                "is open to others");
}

}  // namespace
}  // namespace sealfs::it
