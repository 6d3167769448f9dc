#include "membership.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "cluster_secret.h"
#include "temp_dir.h"

namespace sealfs {
namespace {

ClusterConfig TwoServers() {
  ClusterConfig c{.version = 7, .chunk_size = 1 << 20, .root_server = 2};
  c.servers.push_back({.id = 2, .address = "198.18.0.2", .port = 7002, .data_dir = "/srv/2"});
  c.servers.push_back({.id = 5, .address = "198.18.0.5", .port = 7005, .udp_port = 7006});
  return c;
}

class MembershipTest : public ::testing::Test {
 protected:
  ClusterSecret NewSecret(const std::string& name) {
    Result<ClusterSecret> s = ClusterSecret::CreateFile(dir_.path() + "/" + name);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return *s;
  }
  testing::TempDir dir_;
};

TEST_F(MembershipTest, ASignedRecordReadsBackWithItsSecret) {
  ClusterSecret secret = NewSecret("k");
  SignedMembership m = MakeMembership(TwoServers(), &secret);
  Result<ClusterConfig> back = ReadMembership(m, &secret);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->version, 7u);
  EXPECT_EQ(back->root_server, 2);
  EXPECT_EQ(back->servers, TwoServers().servers);
  EXPECT_TRUE(ReadMembership(m, nullptr).ok()) << "clients read records unchecked";
}

TEST_F(MembershipTest, AnotherSecretATamperedRecordOrNoMacIsRefused) {
  ClusterSecret secret = NewSecret("k"), other = NewSecret("other");
  SignedMembership m = MakeMembership(TwoServers(), &secret);
  EXPECT_EQ(ReadMembership(m, &other).err(), EPERM);
  SignedMembership tampered = m;
  tampered.record[tampered.record.size() / 2] ^= 1;
  EXPECT_EQ(ReadMembership(tampered, &secret).err(), EPERM);
  EXPECT_EQ(ReadMembership(MakeMembership(TwoServers(), nullptr), &secret).err(), EPERM);
  // A MAC made for another purpose with the same secret does not verify a record.
  ClusterSecret::Mac mac = secret.Sign("another purpose", m.record);
  SignedMembership reused{.record = m.record, .mac = std::string(mac.begin(), mac.end())};
  EXPECT_EQ(ReadMembership(reused, &secret).err(), EPERM);
}

TEST_F(MembershipTest, ARecordBreakingTheRulesIsRefused) {
  ClusterConfig c = TwoServers();
  c.root_server = 3;
  EXPECT_EQ(ReadMembership(MakeMembership(c, nullptr), nullptr).err(), EINVAL);
  c = TwoServers();
  c.servers[1].id = 2;
  EXPECT_EQ(ReadMembership(MakeMembership(c, nullptr), nullptr).err(), EINVAL);
  SignedMembership truncated = MakeMembership(TwoServers(), nullptr);
  truncated.record.pop_back();
  EXPECT_EQ(ReadMembership(truncated, nullptr).err(), EINVAL);
}

TEST_F(MembershipTest, RemovedServersAreServedByTheirHost) {
  ClusterConfig c = TwoServers();
  c.moving_from = c.servers;
  c.moving_from.push_back({.id = 9, .address = "198.18.0.9", .port = 7009});
  c.retired = {{.id = 4, .host = 5, .from = 9}, {.id = 9, .host = 5, .from = 9}};
  Result<ClusterConfig> back = ReadMembership(MakeMembership(c, nullptr), nullptr);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->retired, c.retired);
  EXPECT_EQ(back->HostOf(2), 2);
  EXPECT_EQ(back->HostOf(4), 5);
  EXPECT_EQ(back->HostOf(9), 5);
  EXPECT_EQ(back->HostOf(3), 0);
  EXPECT_TRUE(back->Leaving(9));
  EXPECT_FALSE(back->Leaving(5));

  ClusterConfig bad = c;
  bad.retired[0].host = 9;  // not a member
  EXPECT_EQ(ReadMembership(MakeMembership(bad, nullptr), nullptr).err(), EINVAL);
  bad = c;
  bad.retired[0].id = 2;  // a member
  EXPECT_EQ(ReadMembership(MakeMembership(bad, nullptr), nullptr).err(), EINVAL);
  bad = c;
  bad.retired[1].from = 5;  // not leaving
  EXPECT_EQ(ReadMembership(MakeMembership(bad, nullptr), nullptr).err(), EINVAL);
  bad = c;
  std::swap(bad.retired[0], bad.retired[1]);  // out of order
  EXPECT_EQ(ReadMembership(MakeMembership(bad, nullptr), nullptr).err(), EINVAL);
}

TEST_F(MembershipTest, SecretFilesAreCheckedBeforeUse) {
  NewSecret("k");
  EXPECT_EQ(ClusterSecret::CreateFile(dir_.path() + "/k").err(), EEXIST) << "never overwritten";
  struct stat st;
  ASSERT_EQ(stat((dir_.path() + "/k").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(ClusterSecret::Load(dir_.path() + "/k").ok());

  ASSERT_EQ(chmod((dir_.path() + "/k").c_str(), 0640), 0);
  Result<ClusterSecret> open_to_group = ClusterSecret::Load(dir_.path() + "/k");
  EXPECT_EQ(open_to_group.err(), EPERM);
  EXPECT_NE(open_to_group.status().message().find("chmod 600"), std::string::npos);

  const std::string bad = dir_.path() + "/bad";
  std::ofstream(bad) << "not hex at all\n";
  ASSERT_EQ(chmod(bad.c_str(), 0600), 0);
  Result<ClusterSecret> not_hex = ClusterSecret::Load(bad);
  EXPECT_EQ(not_hex.err(), EINVAL);
  EXPECT_NE(not_hex.status().message().find(bad), std::string::npos) << "names the file";
  EXPECT_EQ(ClusterSecret::Load(dir_.path() + "/missing").err(), ENOENT);
}

}  // namespace
}  // namespace sealfs
