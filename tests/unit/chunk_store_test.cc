#include "chunk_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <tuple>
#include <vector>

#include "temp_dir.h"

namespace sealfs {
namespace {

constexpr uint64_t kChunk = 64 << 10;

void WriteFileForTest(const std::string& path) { std::ofstream(path) << "not a chunk"; }

class ChunkStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = ChunkStore::Open(dir_.path() + "/chunks", kChunk);
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
  }
  std::string ReadAll(Ino ino, uint64_t chunk, uint32_t off, size_t n) {
    std::vector<uint8_t> buf(n, 0xee);
    auto r = store_->Read(ino, chunk, off, buf);
    EXPECT_TRUE(r.ok());
    return std::string(buf.begin(), buf.begin() + *r);
  }
  testing::TempDir dir_;
  std::unique_ptr<ChunkStore> store_;
};

TEST_F(ChunkStoreTest, MissingChunkIsAHole) { EXPECT_EQ(ReadAll(5, 0, 0, 100), ""); }

TEST_F(ChunkStoreTest, WriteThenRead) {
  auto grown = store_->Write(5, 3, 10, "hello");
  ASSERT_TRUE(grown.ok());
  EXPECT_GT(*grown, 0);
  std::string got = ReadAll(5, 3, 0, 100);
  ASSERT_EQ(got.size(), 15u);
  EXPECT_EQ(got.substr(10), "hello");
  EXPECT_EQ(got.substr(0, 10), std::string(10, '\0'));
}

TEST_F(ChunkStoreTest, RefusesWritesAcrossTheChunkBorder) {
  auto r = store_->Write(5, 0, kChunk - 2, "abc");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err(), EINVAL);
}

TEST_F(ChunkStoreTest, TruncateDropsLaterChunksAndCutsThePartialOne) {
  std::string block(1000, 'x');
  ASSERT_TRUE(store_->Write(7, 0, 0, block).ok());
  ASSERT_TRUE(store_->Write(7, 1, 0, block).ok());
  ASSERT_TRUE(store_->Write(7, 2, 0, block).ok());
  auto freed = store_->Truncate(7, kChunk + 10);
  ASSERT_TRUE(freed.ok());
  EXPECT_GT(*freed, 0);
  EXPECT_EQ(ReadAll(7, 0, 0, 2000).size(), 1000u);
  EXPECT_EQ(ReadAll(7, 1, 0, 2000).size(), 10u);
  EXPECT_EQ(ReadAll(7, 2, 0, 2000).size(), 0u);
  // Idempotent, as intents replay it.
  ASSERT_TRUE(store_->Truncate(7, kChunk + 10).ok());
  ASSERT_TRUE(store_->Truncate(7, 0).ok());
  int chunks = 0;
  store_->ForEachChunk([&](Ino, uint64_t, uint64_t) { ++chunks; });
  EXPECT_EQ(chunks, 0);
}

TEST_F(ChunkStoreTest, ForEachChunkListsWhatWasWritten) {
  ASSERT_TRUE(store_->Write(MakeIno(2, 9), 4, 0, "a").ok());
  ASSERT_TRUE(store_->Write(MakeIno(3, 1), 0, 0, "b").ok());
  std::set<std::pair<Ino, uint64_t>> seen;
  store_->ForEachChunk([&](Ino ino, uint64_t chunk, uint64_t) { seen.insert({ino, chunk}); });
  EXPECT_EQ(seen, (std::set<std::pair<Ino, uint64_t>>{{MakeIno(2, 9), 4}, {MakeIno(3, 1), 0}}));
  ASSERT_TRUE(store_->Sync(MakeIno(2, 9)).ok());
}

TEST_F(ChunkStoreTest, ListChunkPageListsEverythingInOrderWhateverThePageSize) {
  std::vector<std::tuple<Ino, uint64_t, uint64_t>> written;
  for (uint64_t local : {9, 2, 30})
    for (uint64_t idx : {11, 0, 2, 10}) {
      std::string data(local + idx + 1, 'x');
      ASSERT_TRUE(store_->Write(MakeIno(1, local), idx, 0, data).ok());
      written.emplace_back(MakeIno(1, local), idx, data.size());
    }
  std::sort(written.begin(), written.end());
  // A stray file and an inode directory with no chunk are skipped.
  WriteFileForTest(dir_.path() + "/chunks/junk");
  ASSERT_TRUE(std::filesystem::create_directory(dir_.path() + "/chunks/00010000000000ff"));
  for (size_t page : {1, 3, 4, 100}) {
    std::vector<std::tuple<Ino, uint64_t, uint64_t>> listed;
    Ino ino = 0;
    uint64_t idx = 0;
    for (int pages = 0;; ++pages) {
      ASSERT_LT(pages, 100) << "no progress with pages of " << page;
      std::vector<ChunkInfo> out;
      bool eof = store_->ListChunkPage(ino, idx, page, &out, &ino, &idx);
      EXPECT_LE(out.size(), page);
      for (const ChunkInfo& c : out) listed.emplace_back(c.ino, c.index, c.size);
      if (eof) break;
    }
    EXPECT_EQ(listed, written) << "pages of " << page;
  }
}

}  // namespace
}  // namespace sealfs
