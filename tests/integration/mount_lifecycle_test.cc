// The client's life cycle: a clean unmount ends the daemon with status 0, and a mount that
// cannot reach a server fails fast and says which server.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <string>

#include "binaries.h"
#include "file_util.h"
#include "fs_test.h"
#include "mount_table.h"
#include "subprocess.h"

namespace sealfs::it {
namespace {

class MountLifecycleTest : public ClusterTest {};

TEST_F(MountLifecycleTest, UnmountEndsTheDaemonWithStatusZero) {
  auto& cluster = StartCluster();
  auto& mount = cluster.AddMount();
  WriteFile(mount.path() / "f", "x");
  const auto status = mount.Unmount();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0);
  EXPECT_FALSE(IsMountPoint(mount.path()));
  // Mounting again finds the data.
  mount.Mount();
  EXPECT_EQ(ReadFile(mount.path() / "f"), "x");
}

TEST_F(MountLifecycleTest, MountFailsFastNamingAnUnreachableServer) {
  auto& cluster = StartCluster();
  constexpr int kDown = 2;
  cluster.StopServer(kDown);
  const auto mnt = cluster.dir() / "mnt-fail";
  std::filesystem::create_directories(mnt);
  const auto start = std::chrono::steady_clock::now();
  const auto result =
      RunCommand({BinaryPath("sealfs-mount").string(), "--config", cluster.config_path().string(),
                  mnt.string(), "-f", "--timeout-ms", "2000"},
                 std::chrono::seconds(20));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  if (IsMountPoint(mnt)) {
    RunCommand({"/usr/bin/fusermount3", "-u", mnt.string()}, std::chrono::seconds(10));
  }
  EXPECT_FALSE(result.timed_out) << "sealfs-mount still running after 20 s";
  EXPECT_NE(result.status, 0) << result.output;
  EXPECT_LT(elapsed, std::chrono::milliseconds(2000 + 3000));
  const std::string port = std::to_string(cluster.port(kDown));
  const std::regex names_server("(\\b" + port + "\\b)|(server[ #=:]*" + std::to_string(kDown) +
                                    "\\b)|(id[ =:]*" + std::to_string(kDown) + "\\b)",
                                std::regex::icase);
  EXPECT_TRUE(std::regex_search(result.output, names_server))
      << "the message does not name server " << kDown << " (port " << port << "):\n"
      << result.output;
}

}  // namespace
}  // namespace sealfs::it
