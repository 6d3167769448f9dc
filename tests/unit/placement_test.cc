#include "placement.h"

#include <gtest/gtest.h>

#include <map>

namespace sealfs {
namespace {

ClusterConfig Config(std::vector<ServerId> ids) {
  ClusterConfig c;
  c.version = 1;
  for (ServerId id : ids)
    c.servers.push_back({.id = id, .address = "127.0.0.1", .port = uint16_t(7000 + id)});
  c.root_server = ids.front();
  return c;
}

TEST(PlacementTest, InoEncodesHomeServer) {
  Ino ino = MakeIno(513, 12345);
  EXPECT_EQ(HomeOf(ino), 513);
  EXPECT_EQ(LocalOf(ino), 12345u);
  EXPECT_NE(MakeIno(1, kRootLocal), 1u) << "no inode may collide with FUSE's root nodeid";
}

TEST(PlacementTest, ChunksOfOneFileSpreadOverAllServers) {
  Placement p(Config({1, 2, 3}));
  std::map<ServerId, int> count;
  for (uint64_t chunk = 0; chunk < 3000; ++chunk) count[p.ChunkServer(MakeIno(1, 42), chunk)]++;
  ASSERT_EQ(count.size(), 3u);
  for (auto& [id, n] : count) EXPECT_GT(n, 700) << "server " << id;
}

TEST(PlacementTest, DeterministicAcrossInstances) {
  Placement a(Config({1, 2, 3})), b(Config({3, 1, 2}));
  for (uint64_t chunk = 0; chunk < 100; ++chunk)
    EXPECT_EQ(a.ChunkServer(77, chunk), b.ChunkServer(77, chunk));
}

TEST(PlacementTest, AddingAServerMovesAboutAQuarter) {
  Placement three(Config({1, 2, 3})), four(Config({1, 2, 3, 4}));
  int moved = 0, total = 20000;
  for (int chunk = 0; chunk < total; ++chunk) {
    ServerId before = three.ChunkServer(9, chunk), after = four.ChunkServer(9, chunk);
    if (before != after) {
      ++moved;
      EXPECT_EQ(after, 4) << "a chunk may only move to the new server";
    }
  }
  EXPECT_GT(moved, total / 8);
  EXPECT_LT(moved, total * 3 / 8);
}

TEST(PlacementTest, SplitIntoChunks) {
  auto spans = SplitIntoChunks(100, 300, 128);  // [100, 400)
  ASSERT_EQ(spans.size(), 4u);
  EXPECT_EQ(spans[0].chunk, 0u);
  EXPECT_EQ(spans[0].offset, 100u);
  EXPECT_EQ(spans[0].length, 28u);
  EXPECT_EQ(spans[1].chunk, 1u);
  EXPECT_EQ(spans[1].offset, 0u);
  EXPECT_EQ(spans[1].length, 128u);
  EXPECT_EQ(spans[2].chunk, 2u);
  EXPECT_EQ(spans[2].length, 128u);
  EXPECT_EQ(spans[2].file_offset, 256u);
  EXPECT_EQ(spans[3].chunk, 3u);
  EXPECT_EQ(spans[3].offset, 0u);
  EXPECT_EQ(spans[3].length, 16u);
  EXPECT_TRUE(SplitIntoChunks(5, 0, 128).empty());
  auto big = SplitIntoChunks(11ull << 30, 4096, 4 << 20);  // beyond 4 GiB
  ASSERT_EQ(big.size(), 1u);
  EXPECT_EQ(big[0].chunk, (11ull << 30) / (4 << 20));
}

}  // namespace
}  // namespace sealfs
