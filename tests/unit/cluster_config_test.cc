#include "cluster_config.h"

#include <gtest/gtest.h>

namespace sealfs {
namespace {

constexpr char kGood[] = R"(version = 3
chunk_size = 65536
[[server]]
id = 2
address = "127.0.0.1"
port = 7002
udp_port = 7003
data_dir = "/srv/b"
[[server]]
id = 1
address = "127.0.0.1"
port = 7001
)";

TEST(ClusterConfigTest, ParsesAndSortsById) {
  Result<ClusterConfig> c = ParseClusterConfig(kGood, "c.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->version, 3u);
  EXPECT_EQ(c->chunk_size, 65536u);
  ASSERT_EQ(c->servers.size(), 2u);
  EXPECT_EQ(c->servers[0].id, 1);
  EXPECT_EQ(c->servers[1].data_dir, "/srv/b");
  EXPECT_EQ(c->servers[1].udp_port, 7003);
  EXPECT_EQ(c->servers[0].udp_port, 0) << "no udp_port: no UDP fast path";
  EXPECT_EQ(c->RootServer(), 1);
  EXPECT_EQ(HomeOf(c->RootIno()), 1);
}

TEST(ClusterConfigTest, DefaultChunkSize) {
  Result<ClusterConfig> c =
      ParseClusterConfig("version = 1\n[[server]]\nid = 1\naddress = \"a\"\nport = 1\n", "c");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->chunk_size, kDefaultChunkSize);
}

struct BadCase {
  const char* text;
  const char* expected;  // substring of the error, with the line
};

class ClusterConfigErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ClusterConfigErrorTest, NamesTheProblemAndLine) {
  Result<ClusterConfig> c = ParseClusterConfig(GetParam().text, "bad.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.err(), EINVAL);
  EXPECT_NE(c.status().message().find(GetParam().expected), std::string::npos)
      << "message was: " << c.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ClusterConfigErrorTest,
    ::testing::Values(
        BadCase{"version = \n", "bad.toml:1:"},
        BadCase{"[[server]]\nid = 1\naddress = \"a\"\nport = 1\n",
                "missing required key 'version'"},
        BadCase{"version = 1\n", "no [[server]] entries"},
        BadCase{"version = 1\n[[server]]\nid = 1\naddress = \"a\"\nport = 1\n[[server]]\nid = 1\n"
                "address = \"b\"\nport = 2\n",
                "bad.toml:6: server id 1 is listed twice"},
        BadCase{"version = 1\n[[server]]\nid = 1\naddress = \"a\"\nport = 1\n[[server]]\nid = 2\n"
                "address = \"a\"\nport = 1\n",
                "address a:1 is listed twice"},
        BadCase{"version = 1\n[[server]]\nid = 0\naddress = \"a\"\nport = 1\n",
                "bad.toml:3: 'id' = 0 is out of range"},
        BadCase{"version = 1\n[[server]]\nid = 1\naddress = \"a\"\nport = 70000\n",
                "bad.toml:5: 'port'"},
        BadCase{"version = 1\n[[server]]\nid = 1\naddress = \"a\"\nport = 1\nudp_port = 0\n",
                "bad.toml:6: 'udp_port' = 0 is out of range"},
        BadCase{"version = 1\n[[server]]\nid = 1\naddress = 5\nport = 1\n",
                "bad.toml:4: 'address' must be a string"},
        BadCase{"version = 1\nchunk_size = 100000\n[[server]]\nid = 1\naddress = \"a\"\nport = 1\n",
                "bad.toml:2: 'chunk_size' must be a power of two"},
        BadCase{"version = 1\ncolour = 1\n", "bad.toml:2: unknown key 'colour'"},
        BadCase{"version = 1\n[[server]]\nid = 1\naddress = \"a\"\nport = 1\nprot = 2\n",
                "bad.toml:6: unknown key 'prot'"}));

TEST(ClusterConfigTest, MissingFileIsNamed) {
  Result<ClusterConfig> c = LoadClusterConfig("/nonexistent/cluster.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("/nonexistent/cluster.toml"), std::string::npos);
}

TEST(ClusterConfigTest, RootServerDefaultsToTheLowestIdAndMustBeAMember) {
  const std::string servers =
      "[[server]]\nid = 4\naddress = \"a\"\nport = 1\n[[server]]\nid = 2\naddress = "
      "\"a\"\nport = 2\n";
  Result<ClusterConfig> c = ParseClusterConfig("version = 1\n" + servers, "c");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->RootServer(), 2);
  c = ParseClusterConfig("version = 1\nroot_server = 4\n" + servers, "c");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->RootServer(), 4);
  EXPECT_EQ(HomeOf(c->RootIno()), 4);
  c = ParseClusterConfig("version = 1\nroot_server = 3\n" + servers, "c.toml");
  EXPECT_EQ(c.status().message(), "c.toml:2: root_server 3 is not a listed server");
}

TEST(ClusterConfigTest, SecretFileIsTakenFromTheClusterFilesDirectory) {
  const std::string server = "[[server]]\nid = 1\naddress = \"a\"\nport = 1\n";
  Result<ClusterConfig> c = ParseClusterConfig(
      "version = 1\nsecret_file = \"keys/cluster.key\"\n" + server, "c", "/etc/sealfs");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->secret_file, "/etc/sealfs/keys/cluster.key");
  c = ParseClusterConfig("version = 1\nsecret_file = \"/k\"\n" + server, "c", "/etc/sealfs");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->secret_file, "/k");
  c = ParseClusterConfig("version = 1\n" + server, "c", "/etc/sealfs");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->secret_file, "") << "no secret: no membership changes";
}

}  // namespace
}  // namespace sealfs
