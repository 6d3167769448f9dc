// readdir: complete and unique names, d_type and d_ino, large directories, telldir/seekdir,
// and removing entries while listing (what rm -rf does).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "file_util.h"
#include "fs_test.h"
#include "syscall_assertions.h"

namespace sealfs::it {
namespace {

using ReaddirTest = PosixTest;

struct Entry {
  std::string name;
  unsigned char type;
  ino_t ino;
};

class DirStream {
 public:
  explicit DirStream(const std::filesystem::path& path) : dir_(::opendir(path.c_str())) {
    if (dir_ == nullptr) throw std::system_error(errno, std::generic_category(), "opendir");
  }
  ~DirStream() { ::closedir(dir_); }
  DIR* get() { return dir_; }
  // The next entry, or nullopt at the end; throws on a readdir error.
  std::optional<Entry> Next() {
    errno = 0;
    const dirent* e = ::readdir(dir_);
    if (e == nullptr) {
      if (errno != 0) throw std::system_error(errno, std::generic_category(), "readdir");
      return std::nullopt;
    }
    return Entry{e->d_name, e->d_type, e->d_ino};
  }

 private:
  DIR* dir_;
};

std::string Name(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "entry-%06d", i);
  return buf;
}

TEST_F(ReaddirTest, ListsEveryEntryOnceWithTypeAndInode) {
  std::map<std::string, unsigned char> expected;
  for (int i = 0; i < 300; ++i) {
    const auto name = Name(i);
    switch (i % 4) {
      case 0:
        WriteFile(P(name), "");
        expected[name] = DT_REG;
        break;
      case 1:
        ASSERT_OK(::mkdir(P(name).c_str(), 0755));
        expected[name] = DT_DIR;
        break;
      case 2:
        ASSERT_OK(::symlink("x", P(name).c_str()));
        expected[name] = DT_LNK;
        break;
      case 3:
        ASSERT_OK(::mkfifo(P(name).c_str(), 0644));
        expected[name] = DT_FIFO;
        break;
    }
  }
  DirStream stream(dir());
  std::multiset<std::string> seen;
  while (auto e = stream.Next()) {
    seen.insert(e->name);
    if (e->name == "." || e->name == "..") continue;
    SCOPED_TRACE(e->name);
    auto it = expected.find(e->name);
    ASSERT_NE(it, expected.end()) << "unexpected entry";
    EXPECT_TRUE(e->type == it->second || e->type == DT_UNKNOWN)
        << "d_type " << int(e->type) << ", expected " << int(it->second);
    EXPECT_EQ(e->ino, Lstat(P(e->name)).st_ino) << "d_ino differs from st_ino";
  }
  EXPECT_EQ(seen.count("."), 1u);
  EXPECT_EQ(seen.count(".."), 1u);
  for (const auto& [name, type] : expected) EXPECT_EQ(seen.count(name), 1u) << name;
  EXPECT_EQ(seen.size(), expected.size() + 2);
}

// Listing may fill the client's attribute cache (READDIRPLUS); what stat then returns must
// be the entries' real attributes.
TEST_F(ReaddirTest, AttributesSeenAfterListingAreCorrect) {
  constexpr int kFiles = 60;
  for (int i = 0; i < kFiles; ++i) {
    WriteFile(P(Name(i)), std::string(static_cast<size_t>(i) * 1000, 'x'));
    ASSERT_OK(::chmod(P(Name(i)).c_str(), 0600 + i % 8));
  }
  ASSERT_OK(::link(P(Name(0)).c_str(), P("extra-link").c_str()));
  EXPECT_EQ(ListDir(dir()).size(), kFiles + 1u);
  for (int i = 0; i < kFiles; ++i) {
    SCOPED_TRACE(Name(i));
    const auto st = Lstat(P(Name(i)));
    EXPECT_EQ(st.st_size, i * 1000);
    EXPECT_EQ(st.st_mode & 07777, 0600u + i % 8);
    EXPECT_EQ(st.st_nlink, i == 0 ? 2u : 1u);
  }
}

TEST_F(ReaddirTest, EmptyDirectoryHasOnlyDotAndDotDot) {
  ASSERT_OK(::mkdir(P("empty").c_str(), 0755));
  DirStream stream(P("empty"));
  std::set<std::string> names;
  while (auto e = stream.Next()) names.insert(e->name);
  EXPECT_EQ(names, (std::set<std::string>{".", ".."}));
}

// 100,000 entries, made cheap: mknod (one request per name, no open handle), from a few
// threads to overlap round trips.
TEST_F(ReaddirTest, HundredThousandEntriesAreListedCompletely) {
  constexpr int kEntries = 100000;
  constexpr int kThreads = 4;
  std::atomic<int> failures{0};
  std::atomic<int> first_errno{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kEntries; i += kThreads) {
        if (::mknod(P(Name(i)).c_str(), S_IFREG | 0644, 0) != 0) {
          int expected = 0;
          first_errno.compare_exchange_strong(expected, errno);
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0) << "mknod failed, first errno " << first_errno.load();
  const auto created = std::chrono::steady_clock::now();

  std::vector<bool> seen(kEntries, false);
  int duplicates = 0, strangers = 0, total = 0;
  DirStream stream(dir());
  while (auto e = stream.Next()) {
    if (e->name == "." || e->name == "..") continue;
    ++total;
    int i = -1;
    if (std::sscanf(e->name.c_str(), "entry-%d", &i) != 1 || i < 0 || i >= kEntries ||
        e->name != Name(i)) {
      ++strangers;
      continue;
    }
    if (seen[i]) ++duplicates;
    seen[i] = true;
  }
  const auto missing = std::count(seen.begin(), seen.end(), false);
  const auto seconds = [](auto d) { return std::chrono::duration<double>(d).count(); };
  std::cerr << kEntries << " entries created in " << seconds(created - start) << " s, listed in "
            << seconds(std::chrono::steady_clock::now() - created) << " s\n";
  EXPECT_EQ(total, kEntries);
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(duplicates, 0);
  EXPECT_EQ(strangers, 0);
}

TEST_F(ReaddirTest, SeekdirToATelldirPositionResumesThere) {
  constexpr int kEntries = 1500;  // several READDIR batches
  for (int i = 0; i < kEntries; ++i) ASSERT_OK(::mknod(P(Name(i)).c_str(), S_IFREG | 0644, 0));
  DirStream stream(dir());
  std::vector<std::pair<long, std::string>> positions;  // telldir before each entry
  for (;;) {
    const long pos = ::telldir(stream.get());
    auto e = stream.Next();
    if (!e) break;
    positions.emplace_back(pos, e->name);
  }
  ASSERT_EQ(positions.size(), static_cast<size_t>(kEntries + 2));

  // Jump around, forwards and backwards, and check each position yields the same entry.
  for (size_t k = 0; k < positions.size(); k += 97) {
    for (size_t idx : {positions.size() - 1 - k, k}) {
      SCOPED_TRACE(idx);
      ::seekdir(stream.get(), positions[idx].first);
      auto e = stream.Next();
      ASSERT_TRUE(e.has_value());
      EXPECT_EQ(e->name, positions[idx].second);
      // And the listing continues in the same order from there.
      if (idx + 1 < positions.size()) {
        auto next = stream.Next();
        ASSERT_TRUE(next.has_value());
        EXPECT_EQ(next->name, positions[idx + 1].second);
      }
    }
  }
  // rewinddir starts the full listing again.
  ::rewinddir(stream.get());
  size_t count = 0;
  while (stream.Next()) ++count;
  EXPECT_EQ(count, positions.size());
}

// Entries neither added nor removed during a listing must appear exactly once, even when
// the listing removes every entry it has seen (rm -rf).
TEST_F(ReaddirTest, RemovingEntriesWhileListingSkipsNone) {
  constexpr int kEntries = 2000;
  for (int i = 0; i < kEntries; ++i) ASSERT_OK(::mknod(P(Name(i)).c_str(), S_IFREG | 0644, 0));
  std::set<std::string> seen;
  {
    DirStream stream(dir());
    while (auto e = stream.Next()) {
      if (e->name == "." || e->name == "..") continue;
      EXPECT_TRUE(seen.insert(e->name).second) << "listed twice: " << e->name;
      EXPECT_OK(::unlink(P(e->name).c_str()));
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kEntries));
  EXPECT_EQ(ListDir(dir()).size(), 0u) << "entries left after removing all that were listed";
}

TEST_F(ReaddirTest, ListingSeesCreationsAndRemovalsMadeBeforeIt) {
  for (int i = 0; i < 50; ++i) WriteFile(P(Name(i)), "");
  EXPECT_EQ(ListDir(dir()).size(), 50u);
  for (int i = 0; i < 50; i += 2) ASSERT_OK(::unlink(P(Name(i)).c_str()));
  auto names = ListDir(dir());
  std::sort(names.begin(), names.end());
  std::vector<std::string> expected;
  for (int i = 1; i < 50; i += 2) expected.push_back(Name(i));
  EXPECT_EQ(names, expected);
}

}  // namespace
}  // namespace sealfs::it
