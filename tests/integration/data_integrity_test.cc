// Data integrity: random-offset writes of random sizes into a file spanning many chunks,
// checked against a shadow copy in memory, before and after a remount (which drops every
// client-side cache); and concurrent writers to different files.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "file_util.h"
#include "fs_test.h"
#include "fs_under_test.h"
#include "syscall_assertions.h"

namespace sealfs::it {
namespace {

uint64_t Seed() {
  const char* env = std::getenv("SEALFS_TEST_SEED");
  const uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 0) : 20261121;
  std::cerr << "random seed " << seed << " (set SEALFS_TEST_SEED to change)\n";
  return seed;
}

// Describes where two equally long buffers first differ, for a readable failure.
std::string FirstDifference(const std::string& got, const std::string& want) {
  if (got.size() != want.size()) {
    return "size " + std::to_string(got.size()) + ", expected " + std::to_string(want.size());
  }
  const auto mismatch = std::mismatch(got.begin(), got.end(), want.begin());
  if (mismatch.first == got.end()) return "identical";
  const auto at = static_cast<size_t>(mismatch.first - got.begin());
  size_t end = at;
  while (end < got.size() && got[end] != want[end]) ++end;
  return "first difference at offset " + std::to_string(at) + " (differing run of " +
         std::to_string(end - at) + " bytes)";
}

// The file system under test with a given chunk size (0: the product default).
class DataIntegrityTest : public ::testing::TestWithParam<uint64_t> {
 protected:
  void SetUp() override {
    ClusterOptions options;
    if (GetParam() != 0) options.chunk_size = GetParam();
    fs_ = std::make_unique<FsUnderTest>(options);
  }
  void TearDown() override {
    if (HasFailure() && fs_) std::cerr << fs_->LogTails();
  }
  std::filesystem::path P(const std::string& name) const { return fs_->root() / name; }
  uint64_t chunk() const { return GetParam() != 0 ? GetParam() : 4 << 20; }

  std::unique_ptr<FsUnderTest> fs_;
};

TEST_P(DataIntegrityTest, RandomWritesMatchAShadowCopyAcrossRemount) {
  // The file spans 48 small chunks (or 6 default ones); writes range from one byte to a few
  // chunks.
  const uint64_t span = std::min<uint64_t>(48 * chunk(), 24 << 20);
  const size_t max_write = std::min<uint64_t>(3 * chunk() + 17, 1 << 20);
  constexpr int kWrites = 300;
  std::mt19937_64 rng(Seed());
  std::string shadow;
  {
    auto fd = Open(P("data"), O_RDWR | O_CREAT);
    for (int i = 0; i < kWrites; ++i) {
      // Bias a third of the writes onto chunk boundaries.
      uint64_t offset = rng() % span;
      if (i % 3 == 0) {
        const uint64_t boundary = offset / chunk() * chunk();
        offset = boundary - std::min<uint64_t>(boundary, rng() % 5);
      }
      const size_t size = 1 + rng() % max_write;
      const auto bytes = RandomBytes(rng, size);
      PwriteFull(fd.get(), bytes, static_cast<off_t>(offset));
      if (shadow.size() < offset + size) shadow.resize(offset + size, '\0');
      shadow.replace(offset, size, bytes);
      // Read back a random window now and then, while the writes are still in flight.
      if (i % 25 == 0) {
        const uint64_t at = rng() % shadow.size();
        const size_t len = std::min<uint64_t>(1 + rng() % (2 * chunk()), shadow.size() - at);
        const auto window = PreadFull(fd.get(), len, static_cast<off_t>(at));
        ASSERT_TRUE(window == shadow.substr(at, len))
            << "after write " << i << ", window at " << at << ": "
            << FirstDifference(window, shadow.substr(at, len));
      }
    }
    ASSERT_OK(::fsync(fd.get()));
  }
  EXPECT_EQ(Stat(P("data")).st_size, static_cast<off_t>(shadow.size()));
  const auto before = ReadFile(P("data"));
  EXPECT_EQ(Hash(before), Hash(shadow)) << FirstDifference(before, shadow);

  fs_->Remount();
  EXPECT_EQ(Stat(P("data")).st_size, static_cast<off_t>(shadow.size()));
  const auto after = ReadFile(P("data"));
  EXPECT_EQ(Hash(after), Hash(shadow)) << "after remount: " << FirstDifference(after, shadow);
}

TEST_P(DataIntegrityTest, ConcurrentWritersToDifferentFiles) {
  constexpr int kWriters = 6;
  const size_t file_size = std::min<uint64_t>(12 * chunk(), 6 << 20) + 1234;
  const uint64_t seed = Seed();
  std::vector<std::string> contents(kWriters);
  std::vector<std::string> errors(kWriters);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      try {
        std::mt19937_64 rng(seed + w);
        contents[w] = RandomBytes(rng, file_size);
        auto fd = Open(P("writer" + std::to_string(w)), O_RDWR | O_CREAT);
        // Pieces of random size, written in a shuffled order.
        std::vector<std::pair<size_t, size_t>> pieces;
        for (size_t at = 0; at < file_size;) {
          const size_t len = std::min<size_t>(1 + rng() % (chunk() + 999), file_size - at);
          pieces.emplace_back(at, len);
          at += len;
        }
        std::shuffle(pieces.begin(), pieces.end(), rng);
        for (const auto& [at, len] : pieces) {
          PwriteFull(fd.get(), std::string_view(contents[w]).substr(at, len),
                     static_cast<off_t>(at));
        }
      } catch (const std::exception& e) {
        errors[w] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int w = 0; w < kWriters; ++w) ASSERT_EQ(errors[w], "") << "writer " << w;
  fs_->Remount();
  for (int w = 0; w < kWriters; ++w) {
    const auto got = ReadFile(P("writer" + std::to_string(w)));
    EXPECT_EQ(Hash(got), Hash(contents[w]))
        << "writer " << w << ": " << FirstDifference(got, contents[w]);
  }
}

INSTANTIATE_TEST_SUITE_P(ChunkSizes, DataIntegrityTest,
                         ::testing::Values(kSmallChunkSize, uint64_t{0}), [](const auto& info) {
                           return info.param == 0 ? std::string("DefaultChunks")
                                                  : std::string("SmallChunks");
                         });

}  // namespace
}  // namespace sealfs::it
