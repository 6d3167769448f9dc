// Adding a server with sealfs-loader under a live read/write/metadata workload: the workload
// sees no error and no wrong byte, every chunk ends up where the new placement puts it, and
// sealfs-fsck finds the cluster clean.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>

#include "binaries.h"
#include "cluster_config.h"
#include "file_util.h"
#include "fs_test.h"
#include "placement.h"
#include "syscall_assertions.h"

namespace sealfs::it {
namespace {

// Reads, writes, truncates, renames and unlinks files under `root` until told to stop,
// checking every byte it reads against what it wrote. The only writer of its files.
class Workload {
 public:
  explicit Workload(std::filesystem::path root) : root_(std::move(root)), rng_(42) {
    EXPECT_OK(::mkdir(root_.c_str(), 0755));
    for (int i = 0; i < 60; ++i) Create();
  }

  void Start() {
    thread_ = std::thread([this] {
      while (!stop_ && !::testing::Test::HasFailure()) Step();
    });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Every file reads back as written.
  void Verify() {
    for (const auto& [name, data] : files_)
      EXPECT_EQ(Hash(ReadFile(root_ / name)), Hash(data)) << name;
  }
  uint64_t steps() const { return steps_; }

 private:
  std::string Pick() {
    auto it = files_.begin();
    std::advance(it, rng_() % files_.size());
    return it->first;
  }
  void Create() {
    const std::string name =
        (rng_() % 3 ? "" : "d" + std::to_string(rng_() % 4) + "-") + "f" + std::to_string(next_++);
    files_[name] = RandomBytes(rng_, rng_() % (300 << 10));
    WriteFile(root_ / name, files_[name]);
  }
  void Step() {
    ++steps_;
    switch (rng_() % 6) {
      case 0:
        Create();
        break;
      case 1: {  // overwrite or extend a range
        const std::string name = Pick();
        std::string& data = files_[name];
        const size_t at = rng_() % (data.size() + 100000);
        const std::string bytes = RandomBytes(rng_, 1 + rng_() % 150000);
        if (data.size() < at + bytes.size()) data.resize(at + bytes.size(), '\0');
        data.replace(at, bytes.size(), bytes);
        auto fd = Open(root_ / name, O_WRONLY);
        PwriteFull(fd.get(), bytes, static_cast<off_t>(at));
        break;
      }
      case 2:
      case 3: {
        const std::string name = Pick();
        EXPECT_EQ(Hash(ReadFile(root_ / name)), Hash(files_[name])) << name;
        break;
      }
      case 4: {
        const std::string name = Pick();
        std::string& data = files_[name];
        data.resize(rng_() % (data.size() + 50000), '\0');
        EXPECT_OK(::truncate((root_ / name).c_str(), static_cast<off_t>(data.size())));
        break;
      }
      case 5: {
        if (files_.size() < 20) break;
        const std::string name = Pick();
        if (rng_() % 2) {
          EXPECT_OK(::unlink((root_ / name).c_str()));
          files_.erase(name);
        } else {
          const std::string moved = "r" + std::to_string(next_++);
          EXPECT_OK(::rename((root_ / name).c_str(), (root_ / moved).c_str()));
          files_[moved] = std::move(files_[name]);
          files_.erase(name);
        }
        break;
      }
    }
  }

  std::filesystem::path root_;
  std::mt19937_64 rng_;
  std::map<std::string, std::string> files_;
  int next_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> steps_{0};
  std::thread thread_;
};

class LoaderMigrationTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    if (std::getenv("SEALFS_TEST_XDP"))
      GTEST_SKIP() << "adding a server to a cluster in network namespaces (SEALFS_TEST_XDP) "
                      "is not supported by the test harness";
  }

  // Every chunk file of every server sits on the server the cluster file's placement gives
  // it. Returns the number of chunk files of each server.
  std::map<int, size_t> ExpectChunksPlaced() {
    std::map<int, size_t> chunks;
    Result<ClusterConfig> config = LoadClusterConfig(cluster().config_path().string());
    EXPECT_TRUE(config.ok()) << config.status().ToString();
    if (!config.ok()) return chunks;
    Placement placement(*config);
    for (int id = 1; id <= cluster().server_count(); ++id) {
      const auto dir = cluster().dir() / ("s" + std::to_string(id)) / "chunks";
      if (!std::filesystem::exists(dir)) continue;
      for (const auto& ino_dir : std::filesystem::directory_iterator(dir)) {
        const Ino ino = std::stoull(ino_dir.path().filename().string(), nullptr, 16);
        for (const auto& chunk : std::filesystem::directory_iterator(ino_dir.path())) {
          const uint64_t index = std::stoull(chunk.path().filename().string());
          EXPECT_EQ(placement.ChunkServer(ino, index), id) << chunk.path();
          ++chunks[id];
        }
      }
    }
    return chunks;
  }
};

TEST_F(LoaderMigrationTest, AddingAServerUnderALiveWorkloadLosesNothing) {
  auto& cluster = StartCluster({.chunk_size = kSmallChunkSize});
  auto& mount = cluster.AddMount();
  Workload workload(mount.path() / "w");
  workload.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  const int added = cluster.AddServer();
  const auto applied = cluster.Loader({"apply", cluster.config_path().string()});
  EXPECT_EQ(applied.status, 0) << applied.output;
  EXPECT_NE(applied.output.find("every chunk is where membership version 2 places it"),
            std::string::npos)
      << applied.output;
  const uint64_t steps_at_end = workload.steps();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  workload.Stop();
  EXPECT_GT(workload.steps(), steps_at_end) << "the workload went on after the move";
  workload.Verify();

  const auto status = cluster.Loader({"status", "--json", cluster.config_path().string()});
  EXPECT_EQ(status.status, 0) << status.output;
  EXPECT_NE(status.output.find("\"id\": " + std::to_string(added)), std::string::npos)
      << status.output;
  EXPECT_EQ(status.output.find("\"migrating\": true"), std::string::npos) << status.output;
  std::map<int, size_t> chunks = ExpectChunksPlaced();
  size_t total = 0;
  for (auto [id, n] : chunks) total += n;
  // About a quarter with 4 servers; how many there are depends on how far the workload got.
  EXPECT_GT(chunks[added], total / 8) << "the new server holds its share of the chunks";
  std::printf("%s(workload: %llu steps; chunk files per server:", applied.output.c_str(),
              static_cast<unsigned long long>(workload.steps()));
  for (auto [id, n] : chunks) std::printf(" %d: %zu", id, n);
  std::printf(")\n");

  cluster.UnmountAll();
  cluster.StopAllServers();
  const auto fsck = cluster.Fsck();
  EXPECT_EQ(fsck.status, 0) << fsck.output;
}

// Every `step`th file under `root` (written by WriteFiles) reads back as written.
void ExpectFiles(const std::filesystem::path& root, const std::map<std::string, std::string>& files,
                 size_t step = 1) {
  size_t i = 0;
  for (const auto& [name, data] : files) {
    if (i++ % step == 0) EXPECT_EQ(Hash(ReadFile(root / name)), Hash(data)) << name;
  }
}

std::map<std::string, std::string> WriteFiles(const std::filesystem::path& root, int count) {
  std::mt19937_64 rng(7);
  std::map<std::string, std::string> files;
  for (int i = 0; i < count; ++i) {
    const std::string name = "f" + std::to_string(i);
    files[name] = RandomBytes(rng, 200000 + rng() % 400000);
    WriteFile(root / name, files[name]);
  }
  return files;
}

TEST_F(LoaderMigrationTest, KillingTheLoaderOrAServerMidMigrationLosesNothing) {
  auto& cluster = StartCluster({.chunk_size = kSmallChunkSize});
  auto& mount = cluster.AddMount();
  const auto files = WriteFiles(mount.path(), 60);
  const std::string file = cluster.config_path().string();

  // The background migration stays paused until told otherwise: "mid-migration" lasts.
  const int added = cluster.AddServer();
  auto paused = cluster.Loader({"migration", "pause", file});
  ASSERT_EQ(paused.status, 0) << paused.output;
  const auto published = cluster.Loader({"apply", "--no-wait", file});
  ASSERT_EQ(published.status, 0) << published.output;
  auto status = cluster.Loader({"status", "--json", file});
  EXPECT_NE(status.output.find("\"migrating\": true"), std::string::npos) << status.output;
  const auto table = cluster.Loader({"status", file});
  EXPECT_NE(table.output.find("chunks moving for membership version 2:\n["), std::string::npos)
      << table.output;
  EXPECT_NE(table.output.find("to hand over"), std::string::npos) << table.output;

  // The loader, killed while it follows the migration.
  {
    Subprocess loader({BinaryPath("sealfs-loader").string(), "apply", file},
                      cluster.dir() / "killed-loader.log");
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    ASSERT_TRUE(loader.Running()) << "apply returned while the migration was paused";
    EXPECT_EQ(loader.Kill(), 128 + SIGKILL);
  }
  // Moved chunks are pulled at once, paused or not. A sixth of the files: the rest is left
  // for the background migration.
  ExpectFiles(mount.path(), files, 6);

  // The new server, killed and restarted mid-migration.
  cluster.KillServer(added);
  cluster.StartServer(added);
  ExpectFiles(mount.path(), files, 6);

  // A source, killed while the migration runs slowly.
  auto slow = cluster.Loader({"migration", "rate", "1", file});
  ASSERT_EQ(slow.status, 0) << slow.output;
  auto resumed = cluster.Loader({"migration", "resume", file});
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  status = cluster.Loader({"status", "--json", file});
  EXPECT_NE(status.output.find("\"migrating\": true"), std::string::npos)
      << "the migration ended too soon to be interrupted:\n"
      << status.output;
  cluster.KillServer(2);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  cluster.StartServer(2);

  // apply again follows the migration to its end (or finds it ended, on a slow machine).
  ASSERT_EQ(cluster.Loader({"migration", "rate", "0", file}).status, 0);
  const auto finished = cluster.Loader({"apply", file});
  EXPECT_EQ(finished.status, 0) << finished.output;
  status = cluster.Loader({"status", "--json", file});
  EXPECT_EQ(status.output.find("\"migrating\": true"), std::string::npos) << status.output;
  size_t settled = 0;
  for (size_t at = 0; (at = status.output.find("\"outgoing_chunks\": 0,", at)) != std::string::npos;
       ++at)
    ++settled;
  EXPECT_EQ(settled, 4u) << "chunks still to hand over:\n" << status.output;
  ExpectFiles(mount.path(), files);
  std::map<int, size_t> chunks = ExpectChunksPlaced();
  EXPECT_GT(chunks[added], 50u);
  cluster.UnmountAll();
  cluster.StopAllServers();
  const auto fsck = cluster.Fsck();
  EXPECT_EQ(fsck.status, 0) << fsck.output;
}

// Directories under `root` until at least `want` of them have their home on server `home`
// (new directories spread over the servers); returns those, each holding a few files.
std::map<std::string, std::string> DirsHomedAt(const std::filesystem::path& root, int home,
                                               int want) {
  std::mt19937_64 rng(11);
  std::map<std::string, std::string> files;
  int found = 0;
  for (int i = 0; found < want && i < 200; ++i) {
    const auto dir = root / ("dir" + std::to_string(i));
    EXPECT_OK(::mkdir(dir.c_str(), 0755));
    struct stat st;
    EXPECT_OK(::stat(dir.c_str(), &st));
    if (static_cast<int>(HomeOf(st.st_ino)) != home) continue;
    ++found;
    for (int f = 0; f < 4; ++f) {
      const std::string name = "dir" + std::to_string(i) + "/f" + std::to_string(f);
      files[name] = RandomBytes(rng, rng() % (200 << 10));
      WriteFile(root / name, files[name]);
    }
  }
  EXPECT_EQ(found, want) << "no directories homed on server " << home;
  return files;
}

// A name for a directory under `root` that the placement puts on server `home`.
std::string DirNameHomedAt(const std::filesystem::path& root, int home) {
  for (int i = 0; i < 200; ++i) {
    const std::string name = "probe" + std::to_string(i);
    const auto dir = root / name;
    EXPECT_OK(::mkdir(dir.c_str(), 0755));
    struct stat st;
    EXPECT_OK(::stat(dir.c_str(), &st));
    EXPECT_OK(::rmdir(dir.c_str()));
    if (static_cast<int>(HomeOf(st.st_ino)) == home) return name;
  }
  ADD_FAILURE() << "no directory name placed on server " << home;
  return "w";
}

// No chunk file is left in server id's data directory.
void ExpectNoChunks(const LocalCluster& cluster, int id) {
  const auto dir = cluster.dir() / ("s" + std::to_string(id)) / "chunks";
  size_t left = 0;
  if (std::filesystem::exists(dir)) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir))
      left += entry.is_regular_file() ? 1 : 0;
  }
  EXPECT_EQ(left, 0u) << "chunk files left on server " << id;
}

TEST_F(LoaderMigrationTest, RemovingAServerUnderALiveWorkloadLosesNothing) {
  auto& cluster =
      StartCluster({.servers = 4, .chunk_size = kSmallChunkSize, .udp_fast_path = true});
  auto& mount = cluster.AddMount();
  // Directories (and with them the files they hold) homed on the server to be removed.
  const auto homed = DirsHomedAt(mount.path(), 3, 3);
  // The workload's files, too: their entries and inodes move while it runs.
  Workload workload(mount.path() / DirNameHomedAt(mount.path(), 3));
  workload.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  cluster.RemoveFromFile(3);
  const auto applied = cluster.Loader({"apply", cluster.config_path().string()});
  EXPECT_EQ(applied.status, 0) << applied.output;
  EXPECT_NE(applied.output.find("server 3 is removed: its chunks move to the others, its "
                                "metadata to server"),
            std::string::npos)
      << applied.output;
  EXPECT_NE(applied.output.find("server 3 holds nothing of the file system any more"),
            std::string::npos)
      << applied.output;
  // Nothing needs the removed server any more.
  cluster.StopServer(3);
  ExpectNoChunks(cluster, 3);
  const auto again = cluster.Loader({"apply", cluster.config_path().string()});
  EXPECT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("server 3 holds nothing of the file system any more (it does not "
                              "answer)"),
            std::string::npos)
      << again.output;
  const uint64_t steps_at_end = workload.steps();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  workload.Stop();
  EXPECT_GT(workload.steps(), steps_at_end) << "the workload went on after the move";
  workload.Verify();
  ExpectFiles(mount.path(), homed);
  // The removed server's directories take changes at their new server.
  for (const auto& [name, data] : homed) {
    const auto moved = mount.path() / (name + ".moved");
    EXPECT_OK(::rename((mount.path() / name).c_str(), moved.c_str()));
    WriteFile(mount.path() / (name + ".new"), data);
    EXPECT_EQ(Hash(ReadFile(moved)), Hash(data)) << name;
    struct stat st;
    EXPECT_OK(::stat(moved.parent_path().c_str(), &st));
    EXPECT_EQ(HomeOf(st.st_ino), 3) << "inode numbers never change";
  }

  const auto status = cluster.Loader({"status", "--json", cluster.config_path().string()});
  EXPECT_EQ(status.status, 0) << status.output;
  EXPECT_EQ(status.output.find("\"id\": 3"), std::string::npos) << status.output;
  EXPECT_EQ(status.output.find("\"migrating\": true"), std::string::npos) << status.output;
  ExpectChunksPlaced();
  std::printf("%s(workload: %llu steps)\n", applied.output.c_str(),
              static_cast<unsigned long long>(workload.steps()));

  cluster.UnmountAll();
  cluster.StopAllServers();
  const auto fsck = cluster.Fsck();
  EXPECT_EQ(fsck.status, 0) << fsck.output;
}

// The server `apply` named as the heir of a removed server's metadata.
int HeirNamedIn(const std::string& output) {
  const std::string said = "its metadata to server ";
  const size_t at = output.find(said);
  if (at == std::string::npos) {
    ADD_FAILURE() << "no heir named in:\n" << output;
    return 0;
  }
  return std::stoi(output.substr(at + said.size()));
}

TEST_F(LoaderMigrationTest, AServerLeavesOnlyOnceItHoldsNothing) {
  auto& cluster = StartCluster({.servers = 4, .chunk_size = kSmallChunkSize});
  auto& mount = cluster.AddMount();
  const auto files = WriteFiles(mount.path(), 40);
  const auto homed = DirsHomedAt(mount.path(), 3, 2);
  const std::string file = cluster.config_path().string();

  // Not while it cannot be asked: it may hold the only copy of anything.
  cluster.KillServer(3);
  auto refused = cluster.Loader({"apply", cluster.FileWithout(3).string()});
  EXPECT_EQ(refused.status, 1) << refused.output;
  EXPECT_NE(refused.output.find("server 3 is to be removed but cannot be asked"), std::string::npos)
      << refused.output;
  EXPECT_NE(refused.output.find("nothing was changed"), std::string::npos) << refused.output;
  cluster.StartServer(3);
  // Not the root directory's server.
  refused = cluster.Loader({"apply", cluster.FileWithout(1).string()});
  EXPECT_EQ(refused.status, 1) << refused.output;
  EXPECT_NE(refused.output.find("the root directory lives on server 1; it cannot move"),
            std::string::npos)
      << refused.output;
  auto status = cluster.Loader({"status", "--json", file});
  EXPECT_NE(status.output.find("\"membership_version\": 1,"), std::string::npos) << status.output;

  // Mid-drain (paused): the leaving server and its heir killed and restarted.
  ASSERT_EQ(cluster.Loader({"migration", "pause", file}).status, 0);
  cluster.RemoveFromFile(3);
  const auto published = cluster.Loader({"apply", "--no-wait", file});
  ASSERT_EQ(published.status, 0) << published.output;
  const int heir = HeirNamedIn(published.output);
  status = cluster.Loader({"status", file});
  EXPECT_NE(status.output.find("leaving"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("to hand over"), std::string::npos) << status.output;
  // Nor another change while it still holds chunks.
  refused = cluster.Loader({"apply", cluster.FileWithout(2).string()});
  EXPECT_EQ(refused.status, 1) << refused.output;
  EXPECT_NE(refused.output.find("still moves chunks"), std::string::npos) << refused.output;
  ExpectFiles(mount.path(), homed);  // the heir serves them already
  ExpectFiles(mount.path(), files, 5);
  cluster.KillServer(3);
  cluster.StartServer(3);
  ExpectFiles(mount.path(), files, 7);
  cluster.KillServer(heir);
  cluster.StartServer(heir);
  ExpectFiles(mount.path(), homed);
  ASSERT_EQ(cluster.Loader({"migration", "resume", file}).status, 0);
  const auto finished = cluster.Loader({"apply", file});
  EXPECT_EQ(finished.status, 0) << finished.output;
  EXPECT_NE(finished.output.find("server 3 holds nothing of the file system any more"),
            std::string::npos)
      << finished.output;
  cluster.StopServer(3);
  ExpectNoChunks(cluster, 3);
  ExpectFiles(mount.path(), files);
  ExpectFiles(mount.path(), homed);
  ExpectChunksPlaced();
  cluster.UnmountAll();
  cluster.StopAllServers();
  const auto fsck = cluster.Fsck();
  EXPECT_EQ(fsck.status, 0) << fsck.output;
}

TEST_F(LoaderMigrationTest, RemovingAnHeirMovesTheInodesItTookOverToo) {
  auto& cluster = StartCluster({.servers = 4, .chunk_size = kSmallChunkSize});
  auto& mount = cluster.AddMount();
  // Files in "/" live on the root server: it holds the most inodes and is no heir.
  const auto files = WriteFiles(mount.path(), 30);
  const auto homed = DirsHomedAt(mount.path(), 3, 2);
  const std::string file = cluster.config_path().string();

  cluster.RemoveFromFile(3);
  const auto first = cluster.Loader({"apply", file});
  ASSERT_EQ(first.status, 0) << first.output;
  const int heir = HeirNamedIn(first.output);
  ASSERT_NE(heir, 1) << first.output;
  cluster.StopServer(3);
  cluster.RemoveFromFile(heir);
  const auto second = cluster.Loader({"apply", file});
  ASSERT_EQ(second.status, 0) << second.output;
  EXPECT_NE(second.output.find("server " + std::to_string(heir) + " holds nothing"),
            std::string::npos)
      << second.output;
  cluster.StopServer(heir);
  ExpectNoChunks(cluster, heir);

  ExpectFiles(mount.path(), files);
  ExpectFiles(mount.path(), homed);
  for (const auto& [name, data] : homed) {
    EXPECT_OK(::unlink((mount.path() / name).c_str()));
    WriteFile(mount.path() / name, data + data);
    EXPECT_EQ(ReadFile(mount.path() / name), data + data) << name;
  }
  ExpectChunksPlaced();
  cluster.UnmountAll();
  cluster.StopAllServers();
  const auto fsck = cluster.Fsck();
  EXPECT_EQ(fsck.status, 0) << fsck.output;
}

}  // namespace
}  // namespace sealfs::it
