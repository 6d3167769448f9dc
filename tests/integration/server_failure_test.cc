// A server that dies or receives garbage: clients get EIO in bounded time instead of
// hanging, recover once the server is back, and other clients are not harmed.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <future>
#include <random>
#include <string>
#include <system_error>
#include <thread>

#include "file_util.h"
#include "fs_test.h"
#include "syscall_assertions.h"
#include "tcp.h"

namespace sealfs::it {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class ServerFailureTest : public ClusterTest {};

// Reads fd from offset 0 to size in 128 KiB requests; returns the errno of the first failed
// read (0 if all succeeded) and the bytes read before it.
std::pair<int, std::string> ReadUntilError(int fd, size_t size) {
  std::string data;
  std::string buf(128 * 1024, '\0');
  while (data.size() < size) {
    const ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(data.size()));
    if (n < 0) return {errno, data};
    if (n == 0) break;
    data.append(buf.data(), static_cast<size_t>(n));
  }
  return {0, data};
}

TEST_F(ServerFailureTest, ReadOfChunksOnAKilledServerFailsWithEioThenRecovers) {
  auto& cluster = StartCluster({.chunk_size = kSmallChunkSize});
  auto& mount = cluster.AddMount({.timeout_ms = 2000});
  // 64 chunks: every server holds some of them.
  std::mt19937_64 rng(11);
  const auto content = RandomBytes(rng, 64 * kSmallChunkSize);
  WriteFile(mount.path() / "f", content);
  mount.Remount();  // nothing of the file in the client's page cache

  auto fd = Open(mount.path() / "f", O_RDONLY);
  constexpr int kVictim = 2;
  cluster.KillServer(kVictim);
  const auto start = Clock::now();
  auto reading =
      std::async(std::launch::async, [&] { return ReadUntilError(fd.get(), content.size()); });
  if (reading.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    ADD_FAILURE() << "read still blocked 20 s after server " << kVictim << " was killed";
    ::kill(mount.daemon_pid(), SIGKILL);  // aborts the blocked request so the reader can finish
    reading.wait();
    return;
  }
  const auto [err, prefix] = reading.get();
  const auto elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  EXPECT_EQ(err, EIO) << "read the whole file (" << prefix.size() << " bytes) with server "
                      << kVictim << " down, or failed with " << strerrorname_np(err);
  EXPECT_LT(elapsed, std::chrono::seconds(15));
  EXPECT_TRUE(content.starts_with(prefix)) << "bytes read before the failure are wrong";

  cluster.StartServer(kVictim);
  const auto [err_after, data_after] = ReadUntilError(fd.get(), content.size());
  EXPECT_EQ(err_after, 0) << "read after restart failed with " << strerrorname_np(err_after);
  EXPECT_EQ(Hash(data_after), Hash(content)) << "content differs after restart";
}

// A close whose size commit cannot reach the file's home server fails with EIO, yet the
// written bytes are not lost: the client commits the size once the server is back.
TEST_F(ServerFailureTest, ASizeThatCouldNotBeCommittedAtCloseLandsOnceTheServerIsBack) {
  auto& cluster = StartCluster({.chunk_size = kSmallChunkSize});
  auto& writer = cluster.AddMount({.timeout_ms = 2000});
  auto& reader = cluster.AddMount();
  const std::string content = "written before the home server died";
  auto fd = Open(writer.path() / "f", O_WRONLY | O_CREAT);
  PwriteFull(fd.get(), content, 0);
  struct stat st;
  ASSERT_OK(::fstat(fd.get(), &st));
  const int home = static_cast<int>(st.st_ino >> 48);
  cluster.KillServer(home);
  EXPECT_EQ(::close(fd.release()), -1);
  EXPECT_EQ(errno, EIO) << "close with the home server " << home << " down";
  cluster.StartServer(home);

  const auto deadline = Clock::now() + std::chrono::seconds(10);
  off_t size = -1;
  while (Clock::now() < deadline) {
    if (::stat((reader.path() / "f").c_str(), &st) == 0 && (size = st.st_size) > 0) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(size, static_cast<off_t>(content.size())) << "size seen by another mount";
  EXPECT_EQ(ReadFile(reader.path() / "f"), content);
  cluster.UnmountAll();
  cluster.StopAllServers();
  const auto fsck = cluster.Fsck();
  EXPECT_EQ(fsck.status, 0) << fsck.output;
}

// No central metadata server: directories live on different servers, so with two of three
// servers down some directories cannot be listed while others still can.
TEST_F(ServerFailureTest, DirectoriesAreSpreadOverTheServers) {
  auto& cluster = StartCluster();
  auto& mount = cluster.AddMount({.timeout_ms = 2000});
  constexpr int kDirs = 30;
  for (int i = 0; i < kDirs; ++i) {
    const auto dir = mount.path() / ("d" + std::to_string(i));
    ASSERT_OK(::mkdir(dir.c_str(), 0755));
    WriteFile(dir / "f", "x");
  }
  // With only one server up, the directories it holds can be listed and the others cannot.
  // If all lived on one server, each run would list either all of them or none.
  int mixed_runs = 0;
  std::string outcomes;
  for (int keep = 1; keep <= cluster.server_count(); ++keep) {
    for (int id = 1; id <= cluster.server_count(); ++id) {
      if (id != keep) cluster.KillServer(id);
    }
    int unreachable = 0;
    for (int i = 0; i < kDirs; ++i) {
      try {
        ListDir(mount.path() / ("d" + std::to_string(i)));
      } catch (const std::system_error&) {
        ++unreachable;
      }
    }
    if (unreachable > 0 && unreachable < kDirs) ++mixed_runs;
    outcomes += "only server " + std::to_string(keep) + " up: " + std::to_string(unreachable) +
                " of " + std::to_string(kDirs) + " directories unreadable\n";
    for (int id = 1; id <= cluster.server_count(); ++id) {
      if (id != keep) cluster.StartServer(id);
    }
  }
  EXPECT_GT(mixed_runs, 0) << "all directories live on the same server:\n" << outcomes;
}

// True if the peer closed the connection (EOF or reset) within timeout.
bool ClosedByPeer(int fd, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  char buf[4096];
  while (Clock::now() < deadline) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
  }
  return false;
}

// A frame header as docs/protocol.md and userspace/common/frame.h define it: 32 bytes,
// little-endian: magic "SEAL", version 1, flags, opcode, request id, epoch, status, length.
std::string FrameHeader(uint16_t opcode, uint32_t payload_len) {
  std::string h(32, '\0');
  const uint32_t magic = 0x4C414553;
  const uint8_t version = 1;
  const uint64_t request_id = 42, epoch = 1;
  std::memcpy(&h[0], &magic, 4);
  std::memcpy(&h[4], &version, 1);
  std::memcpy(&h[6], &opcode, 2);
  std::memcpy(&h[8], &request_id, 8);
  std::memcpy(&h[16], &epoch, 8);
  std::memcpy(&h[28], &payload_len, 4);
  return h;
}

TEST_F(ServerFailureTest, GarbageOnServerPortsDoesNotHarmTheMount) {
  auto& cluster = StartCluster({.chunk_size = kSmallChunkSize});
  auto& mount = cluster.AddMount();
  WriteFile(mount.path() / "before", "ok");

  std::mt19937_64 rng(5);
  std::vector<UniqueFd> must_close;  // connections the servers should drop
  std::vector<UniqueFd> idle;        // half-sent frames that stay open
  for (int id = 1; id <= cluster.server_count(); ++id) {
    SCOPED_TRACE("server " + std::to_string(id));
    auto random = ConnectTcp(cluster.address(id), cluster.port(id));
    ASSERT_TRUE(random);
    const auto junk = RandomBytes(rng, 64 * 1024);
    ::send(random.get(), junk.data(), junk.size(), MSG_NOSIGNAL);
    must_close.push_back(std::move(random));

    auto huge = ConnectTcp(cluster.address(id), cluster.port(id));
    ASSERT_TRUE(huge);
    const auto header = FrameHeader(/*opcode=*/15, /*payload_len=*/0xFFFFFFF0u);
    ::send(huge.get(), header.data(), header.size(), MSG_NOSIGNAL);
    ::send(huge.get(), junk.data(), 1000, MSG_NOSIGNAL);
    must_close.push_back(std::move(huge));

    auto half = ConnectTcp(cluster.address(id), cluster.port(id));
    ASSERT_TRUE(half);
    ::send(half.get(), header.data(), 10, MSG_NOSIGNAL);
    idle.push_back(std::move(half));
  }

  // The mount keeps working on every server (64 chunks touch all of them) while the idle
  // connections are still open.
  auto work = std::async(std::launch::async, [&] {
    const auto data = RandomBytes(rng, 64 * kSmallChunkSize);
    WriteFile(mount.path() / "after", data);
    ::mkdir((mount.path() / "dir").c_str(), 0755);
    return ReadFile(mount.path() / "after") == data && ReadFile(mount.path() / "before") == "ok" &&
           ListDir(mount.path()).size() == 3;
  });
  ASSERT_EQ(work.wait_for(std::chrono::seconds(20)), std::future_status::ready)
      << "the mount hangs after garbage was sent to the servers";
  EXPECT_TRUE(work.get());
  mount.Remount();
  EXPECT_EQ(ReadFile(mount.path() / "before"), "ok");

  for (size_t i = 0; i < must_close.size(); ++i) {
    EXPECT_TRUE(ClosedByPeer(must_close[i].get(), milliseconds(5000)))
        << "server " << i / 2 + 1 << " kept a connection open after "
        << (i % 2 == 0 ? "random bytes" : "a header with an enormous length");
  }
  for (int id = 1; id <= cluster.server_count(); ++id) {
    EXPECT_TRUE(cluster.ServerRunning(id)) << "server " << id << " died";
  }
}

}  // namespace
}  // namespace sealfs::it
