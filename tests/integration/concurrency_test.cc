// Concurrent operations through one mount: many threads creating in one directory, racing
// exclusive creates and renames of the same name (exactly one wins), moves in opposite
// directions between two directories (no deadlock), and concurrent O_APPEND writers.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "file_util.h"
#include "fs_test.h"
#include "link_counts.h"
#include "run_threads.h"
#include "syscall_assertions.h"

namespace sealfs::it {
namespace {

using ConcurrencyTest = PosixTest;

TEST_F(ConcurrencyTest, ThreadsCreatingInOneDirectoryLoseNothing) {
  constexpr int kThreads = 6, kPerThread = 150;
  std::atomic<int> failures{0};
  ASSERT_TRUE(RunThreads(kThreads, std::chrono::seconds(60), [&](int t) {
    for (int i = 0; i < kPerThread; ++i) {
      const auto name = "t" + std::to_string(t) + "-" + std::to_string(i);
      const int r =
          i % 3 == 0 ? ::mkdir(P(name).c_str(), 0755) : ::mknod(P(name).c_str(), S_IFREG | 0644, 0);
      if (r != 0) ++failures;
    }
  }));
  EXPECT_EQ(failures.load(), 0);
  const auto names = ListDir(dir());
  EXPECT_EQ(names.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  EXPECT_EQ(Stat(dir()).st_nlink, 2u + kThreads * ((kPerThread + 2) / 3));
}

TEST_F(ConcurrencyTest, RacingExclusiveCreatesHaveExactlyOneWinner) {
  constexpr int kThreads = 6, kRounds = 30;
  for (int round = 0; round < kRounds; ++round) {
    const auto target = P("excl" + std::to_string(round));
    std::atomic<int> wins{0}, eexist{0};
    ASSERT_TRUE(RunThreads(kThreads, std::chrono::seconds(30), [&](int) {
      const int fd = ::open(target.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
      if (fd >= 0) {
        ++wins;
        ::close(fd);
      } else if (errno == EEXIST) {
        ++eexist;
      }
    }));
    EXPECT_EQ(wins.load(), 1) << "round " << round;
    EXPECT_EQ(eexist.load(), kThreads - 1) << "round " << round;
  }
}

TEST_F(ConcurrencyTest, RacingRenamesOfOneFileHaveExactlyOneWinner) {
  constexpr int kThreads = 4, kRounds = 30;
  for (int t = 0; t < kThreads; ++t) ASSERT_OK(::mkdir(P("to" + std::to_string(t)).c_str(), 0755));
  for (int round = 0; round < kRounds; ++round) {
    const auto name = "f" + std::to_string(round);
    WriteFile(P(name), name);
    std::atomic<int> wins{0}, enoent{0};
    ASSERT_TRUE(RunThreads(kThreads, std::chrono::seconds(30), [&](int t) {
      const auto to = P("to" + std::to_string(t) + "/" + name);
      if (::rename(P(name).c_str(), to.c_str()) == 0) {
        ++wins;
      } else if (errno == ENOENT) {
        ++enoent;
      }
    }));
    EXPECT_EQ(wins.load(), 1) << "round " << round;
    EXPECT_EQ(enoent.load(), kThreads - 1) << "round " << round;
    int copies = 0;
    for (int t = 0; t < kThreads; ++t) {
      copies += Exists(P("to" + std::to_string(t) + "/" + name));
    }
    EXPECT_EQ(copies, 1) << "round " << round;
  }
  EXPECT_EQ(LinkCountMismatches(dir()), "");
}

// Moves in opposite directions between two directories (which may live on different
// servers) must not deadlock and must keep every file exactly once.
TEST_F(ConcurrencyTest, OppositeMovesBetweenTwoDirectoriesDoNotDeadlock) {
  constexpr int kFiles = 100;
  ASSERT_OK(::mkdir(P("left").c_str(), 0755));
  ASSERT_OK(::mkdir(P("right").c_str(), 0755));
  for (int i = 0; i < kFiles; ++i) {
    ASSERT_OK(::mknod(P("left/l" + std::to_string(i)).c_str(), S_IFREG | 0644, 0));
    ASSERT_OK(::mknod(P("right/r" + std::to_string(i)).c_str(), S_IFREG | 0644, 0));
  }
  std::atomic<int> failures{0};
  ASSERT_TRUE(RunThreads(2, std::chrono::seconds(60), [&](int t) {
    const std::string from = t == 0 ? "left/l" : "right/r";
    const std::string to = t == 0 ? "right/l" : "left/r";
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < kFiles; ++i) {
        const auto a = P((round % 2 == 0 ? from : to) + std::to_string(i));
        const auto b = P((round % 2 == 0 ? to : from) + std::to_string(i));
        if (::rename(a.c_str(), b.c_str()) != 0) ++failures;
      }
    }
  }));
  EXPECT_EQ(failures.load(), 0);
  // After three rounds every file sits in the other directory.
  auto left = ListDir(P("left"));
  auto right = ListDir(P("right"));
  EXPECT_EQ(left.size(), static_cast<size_t>(kFiles));
  EXPECT_EQ(right.size(), static_cast<size_t>(kFiles));
  EXPECT_TRUE(std::all_of(left.begin(), left.end(), [](auto& n) { return n[0] == 'r'; }));
  EXPECT_TRUE(std::all_of(right.begin(), right.end(), [](auto& n) { return n[0] == 'l'; }));
}

TEST_F(ConcurrencyTest, ConcurrentAppendersKeepEveryRecordWhole) {
  constexpr int kThreads = 4, kRecords = 200;
  constexpr size_t kRecordSize = 64;
  WriteFile(P("log"), "");
  ASSERT_TRUE(RunThreads(kThreads, std::chrono::seconds(60), [&](int t) {
    auto fd = Open(P("log"), O_WRONLY | O_APPEND);
    for (int i = 0; i < kRecords; ++i) {
      std::string record = std::to_string(t) + ":" + std::to_string(i) + ":";
      record.resize(kRecordSize - 1, static_cast<char>('a' + t));
      record.push_back('\n');
      if (::write(fd.get(), record.data(), record.size()) != static_cast<ssize_t>(kRecordSize)) {
        ADD_FAILURE() << "short or failed append";
      }
    }
  }));
  const auto log = ReadFile(P("log"));
  ASSERT_EQ(log.size(), kThreads * kRecords * kRecordSize);
  std::set<std::string> records;
  for (size_t at = 0; at < log.size(); at += kRecordSize) {
    const auto record = log.substr(at, kRecordSize);
    const int t = record[0] - '0';
    EXPECT_TRUE(t >= 0 && t < kThreads && record.back() == '\n' &&
                record[kRecordSize - 2] == static_cast<char>('a' + t))
        << "torn record at offset " << at;
    records.insert(record);
  }
  EXPECT_EQ(records.size(), static_cast<size_t>(kThreads * kRecords));
}

}  // namespace
}  // namespace sealfs::it
