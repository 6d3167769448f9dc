// The client's life cycle: a clean unmount ends the daemon with status 0, and a mount that
// cannot reach a server fails fast and says which server.
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <string>
#include <vector>

#include "binaries.h"
#include "file_util.h"
#include "fs_test.h"
#include "mount_table.h"
#include "subprocess.h"

namespace sealfs::it {
namespace {

// True if `text` names server `id`: its port as a word, or "server" or "id"
// followed (after spaces, '#', '=' or ':') by the id as a word; any case.
bool NamesServer(const std::string& text, int id, const std::string& port) {
  std::vector<std::string> words;  // runs of letters and digits, lower-cased
  std::string word;
  for (char c : text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (!word.empty()) {
      words.push_back(word);
      word.clear();
    }
  }
  const std::string want = std::to_string(id);
  for (size_t i = 0; i < words.size(); ++i) {
    if (words[i] == port) return true;
    if ((words[i] == "server" || words[i] == "id") && i + 1 < words.size() && words[i + 1] == want)
      return true;
  }
  return false;
}

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
  std::vector<std::string> argv = {BinaryPath("sealfs-mount").string(),
                                   "--config",
                                   cluster.config_path().string(),
                                   mnt.string(),
                                   "-f",
                                   "--timeout-ms",
                                   "2000"};
  for (auto& arg : ExtraMountArgs()) argv.push_back(std::move(arg));
  const auto result = RunCommand(argv, std::chrono::seconds(20));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  if (IsMountPoint(mnt)) {
    RunCommand({"/usr/bin/fusermount3", "-u", mnt.string()}, std::chrono::seconds(10));
  }
  EXPECT_FALSE(result.timed_out) << "sealfs-mount still running after 20 s";
  EXPECT_NE(result.status, 0) << result.output;
  EXPECT_LT(elapsed, std::chrono::milliseconds(2000 + 3000));
  const std::string port = std::to_string(cluster.port(kDown));
  EXPECT_TRUE(NamesServer(result.output, kDown, port))
      << "the message does not name server " << kDown << " (port " << port << "):\n"
      << result.output;
}

}  // namespace
}  // namespace sealfs::it
