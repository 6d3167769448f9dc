// XdpAnswers against a real BPF LRU hash map of the answers map's shape.
// Needs the privilege to create BPF maps; skips without it.
#include "xdp_answers.h"

#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "xdp_wire.h"

namespace sealfs {
namespace {

class XdpAnswersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fd_ = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "xdp_answers_t", sizeof(sealfs_xdp_key),
                         sizeof(sealfs_xdp_answer), 1024, nullptr);
    if (fd_ < 0 && (errno == EPERM || errno == EACCES))
      GTEST_SKIP() << "no privilege to create BPF maps: run as root, or with CAP_BPF";
    ASSERT_GE(fd_, 0) << std::strerror(errno);
    answers_.emplace(fd_);
  }
  void TearDown() override {
    if (fd_ >= 0) close(fd_);
  }

  // What the program would answer for `key` from the map: as the program
  // does, a value whose key or check does not match is not an answer (the
  // kernel reuses an LRU element at once, so a read racing with an update can
  // copy a mix of two values).
  std::optional<sealfs_xdp_answer> Get(const sealfs_xdp_key& key) { return GetFrom(fd_, key); }
  static std::optional<sealfs_xdp_answer> GetFrom(int fd, const sealfs_xdp_key& key) {
    sealfs_xdp_answer a;
    if (bpf_map_lookup_elem(fd, &key, &a) != 0) return std::nullopt;
    if (std::memcmp(&a.key, &key, sizeof(key)) != 0 || a.check != sealfs_xdp_answer_check(&a))
      return std::nullopt;
    return a;
  }
  // An answer read now.
  sealfs_xdp_answer Attrs(Ino ino, uint64_t size) {
    return XdpAnswer(XdpGetattrKey(ino), answers_->Begin(), 0,
                     XdpPayload(Attr{.ino = ino, .mode = 0100644, .size = size}));
  }
  sealfs_xdp_answer Names(Ino parent, const char* name, Ino child, bool has_attr) {
    return XdpAnswer(*XdpLookupKey(parent, name), answers_->Begin(), 0,
                     XdpPayload(Entry{.ino = child,
                                      .mode = 0100644,
                                      .has_attr = has_attr,
                                      .attr = Attr{.ino = child, .mode = 0100644}}));
  }

  // Another empty map of the answers map's shape (the test closes it).
  static int NewMap() {
    int fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "xdp_answers_t", sizeof(sealfs_xdp_key),
                            sizeof(sealfs_xdp_answer), 1024, nullptr);
    EXPECT_GE(fd, 0) << std::strerror(errno);
    return fd;
  }

  int fd_ = -1;
  std::optional<XdpAnswers> answers_;
};

TEST_F(XdpAnswersTest, FillsAnswersOfStatusZero) {
  sealfs_xdp_answer a = Attrs(5, 100);
  answers_->Fill(a);
  std::optional<sealfs_xdp_answer> got = Get(a.key);
  ASSERT_TRUE(got);
  EXPECT_EQ(std::memcmp(&*got, &a, sizeof(a)), 0);
  sealfs_xdp_answer missing = XdpAnswer(*XdpLookupKey(1, "no"), answers_->Begin(), ENOENT, {});
  answers_->Fill(missing);
  EXPECT_FALSE(Get(missing.key));
}

TEST_F(XdpAnswersTest, ACommitDeletesEveryAnswerItChanges) {
  sealfs_xdp_answer attrs = Attrs(5, 100);
  sealfs_xdp_answer with_attrs = Names(1, "a", 5, true);
  sealfs_xdp_answer without_attrs = Names(1, "b", 5, false);
  sealfs_xdp_answer other = Names(1, "c", 6, true);
  for (const auto& a : {attrs, with_attrs, without_attrs, other}) answers_->Fill(a);
  const Ino changed[] = {5};
  answers_->Committed(changed, {});
  EXPECT_FALSE(Get(attrs.key));
  EXPECT_FALSE(Get(with_attrs.key)) << "a LOOKUP answer carrying the inode's attributes";
  EXPECT_TRUE(Get(without_attrs.key));
  EXPECT_TRUE(Get(other.key));
  const EntryName names[] = {{1, "b"}, {1, std::string(SEALFS_XDP_NAME_MAX + 1, 'l')}};
  answers_->Committed({}, names);
  EXPECT_FALSE(Get(without_attrs.key));
  EXPECT_TRUE(Get(other.key));
}

TEST_F(XdpAnswersTest, AnAnswerReadBeforeAChangeIsNeverFilledAfterIt) {
  uint64_t before = answers_->Begin();
  sealfs_xdp_answer stale_attrs = Attrs(5, 100);
  sealfs_xdp_answer stale_name = Names(1, "a", 5, true);
  sealfs_xdp_answer stale_entry = Names(1, "b", 7, false);
  const Ino inodes[] = {5};
  const EntryName entries[] = {{1, "b"}};
  answers_->Committed(inodes, entries);
  EXPECT_GT(answers_->Begin(), before);
  for (const auto& a : {stale_attrs, stale_name, stale_entry}) {
    answers_->Fill(a);
    EXPECT_FALSE(Get(a.key));
  }
  // Answers read after the change go in, with a newer generation.
  sealfs_xdp_answer fresh = Attrs(5, 200);
  answers_->Fill(fresh);
  ASSERT_TRUE(Get(fresh.key));
  EXPECT_GT(Get(fresh.key)->generation, stale_attrs.generation);
  // Other keys are not held up by the change.
  sealfs_xdp_answer unrelated = Names(2, "x", 8, true);
  answers_->Fill(unrelated);
  EXPECT_TRUE(Get(unrelated.key));
}

// Readers fill answers read from a changing "store" while a writer changes
// it and commits: right after each commit, and whenever it looks again, the
// map never holds an answer the change made stale - for GETATTR, and for a
// LOOKUP carrying the changed inode's attributes.
TEST_F(XdpAnswersTest, FillsRacingChangesNeverLeaveAStaleAnswer) {
  constexpr int kInodes = 8;
  constexpr int kChanges = 5'000;
  std::array<std::atomic<uint64_t>, kInodes> sizes{};
  auto attr_key = [](int i) { return XdpGetattrKey(MakeIno(1, 100 + i)); };
  auto name_key = [](int i) { return *XdpLookupKey(MakeIno(1, 1), "n" + std::to_string(i)); };
  std::atomic<bool> stop{false};
  auto reader = [&](unsigned seed) {
    std::mt19937 rng(seed);
    while (!stop.load()) {
      int i = static_cast<int>(rng() % kInodes);
      uint64_t generation = answers_->Begin();  // before the read, as the contract says
      Attr attr{.ino = MakeIno(1, 100 + static_cast<uint64_t>(i)), .size = sizes[i].load()};
      if (rng() % 2) {
        answers_->Fill(XdpAnswer(attr_key(i), generation, 0, XdpPayload(attr)));
      } else {
        Entry entry{.ino = attr.ino, .mode = 0100644, .has_attr = 1, .attr = attr};
        answers_->Fill(XdpAnswer(name_key(i), generation, 0, XdpPayload(entry)));
      }
    }
  };
  std::thread r1(reader, 1), r2(reader, 2);
  auto stale = [&](int i) {
    uint64_t now = sizes[i].load();
    std::optional<sealfs_xdp_answer> a = Get(attr_key(i));
    std::optional<sealfs_xdp_answer> n = Get(name_key(i));
    return (a && a->payload.attr.size != now) || (n && n->payload.entry.attr.size != now);
  };
  int stale_seen = 0, present = 0;
  std::mt19937 rng(3);
  for (int c = 0; c < kChanges && stale_seen == 0; ++c) {
    int i = static_cast<int>(rng() % kInodes);
    sizes[i].fetch_add(1);
    const Ino changed[] = {MakeIno(1, 100 + static_cast<uint64_t>(i))};
    answers_->Committed(changed, {});
    for (int look = 0; look < 3; ++look) {
      stale_seen += stale(i);
      present += Get(attr_key(i)).has_value();
      std::this_thread::yield();
    }
  }
  stop = true;
  r1.join();
  r2.join();
  for (int i = 0; i < kInodes; ++i) stale_seen += stale(i);
  EXPECT_EQ(stale_seen, 0);
  EXPECT_GT(present, 0) << "the readers' fills went in";
}

// A program attached later (sealfs-loader bpf attach) brings a new, empty
// map; one detached takes its map away.
TEST_F(XdpAnswersTest, FillsAndDeletionsGoToTheMapSetLast) {
  const sealfs_xdp_answer old_answer = Attrs(5, 100);
  answers_->Fill(old_answer);
  const int fd2 = NewMap();
  answers_->SetMap(fd2);
  const sealfs_xdp_answer a5 = Attrs(5, 200), a6 = Attrs(6, 300);
  answers_->Fill(a5);
  answers_->Fill(a6);
  EXPECT_EQ(GetFrom(fd2, a5.key)->payload.attr.size, 200u);
  EXPECT_EQ(Get(old_answer.key)->payload.attr.size, 100u) << "the old map is not touched";
  const Ino changed[] = {6};
  answers_->Committed(changed, {});
  EXPECT_FALSE(GetFrom(fd2, a6.key));
  // A LOOKUP answer indexed for the old map is not looked for in the new one,
  // and one filled into the new one is deleted there.
  const sealfs_xdp_answer name = Names(1, "n", 5, true);
  answers_->Fill(name);
  const Ino five[] = {5};
  answers_->Committed(five, {});
  EXPECT_FALSE(GetFrom(fd2, name.key));
  EXPECT_FALSE(GetFrom(fd2, a5.key));
  answers_->SetMap(-1);
  const sealfs_xdp_answer none = Attrs(7, 1);
  answers_->Fill(none);
  EXPECT_FALSE(GetFrom(fd2, none.key));
  EXPECT_FALSE(Get(none.key));
  close(fd2);
}

TEST_F(XdpAnswersTest, AnAnswerReadBeforeAChangeIsNotFilledIntoANewMap) {
  const sealfs_xdp_answer stale = Attrs(5, 100);
  const Ino changed[] = {5};
  answers_->Committed(changed, {});
  const int fd2 = NewMap();
  answers_->SetMap(fd2);
  answers_->Fill(stale);
  EXPECT_FALSE(GetFrom(fd2, stale.key));
  close(fd2);
}

// Readers fill while the writer commits changes and, now and then, swaps in
// a new empty map (as attach after detach does): the map in use never holds
// an answer a change made stale.
TEST_F(XdpAnswersTest, SwappingMapsUnderFillsNeverLeavesAStaleAnswer) {
  constexpr int kInodes = 4;
  constexpr int kChanges = 2'000;
  std::array<std::atomic<uint64_t>, kInodes> sizes{};
  auto key = [](int i) { return XdpGetattrKey(MakeIno(1, 100 + i)); };
  std::atomic<bool> stop{false};
  auto reader = [&](unsigned seed) {
    std::mt19937 rng(seed);
    while (!stop.load()) {
      int i = static_cast<int>(rng() % kInodes);
      uint64_t generation = answers_->Begin();
      Attr attr{.ino = MakeIno(1, 100 + static_cast<uint64_t>(i)), .size = sizes[i].load()};
      answers_->Fill(XdpAnswer(key(i), generation, 0, XdpPayload(attr)));
    }
  };
  std::vector<int> maps = {fd_};
  int current = fd_;
  std::thread r1(reader, 1), r2(reader, 2);
  int stale_seen = 0, present = 0;
  std::mt19937 rng(3);
  for (int c = 0; c < kChanges && stale_seen == 0; ++c) {
    if (c % 100 == 99) {
      current = NewMap();
      maps.push_back(current);
      answers_->SetMap(current);
    }
    int i = static_cast<int>(rng() % kInodes);
    sizes[i].fetch_add(1);
    const Ino changed[] = {MakeIno(1, 100 + static_cast<uint64_t>(i))};
    answers_->Committed(changed, {});
    for (int look = 0; look < 3; ++look) {
      std::optional<sealfs_xdp_answer> a = GetFrom(current, key(i));
      stale_seen += a && a->payload.attr.size != sizes[i].load();
      present += a.has_value();
      std::this_thread::yield();
    }
  }
  stop = true;
  r1.join();
  r2.join();
  EXPECT_EQ(stale_seen, 0);
  EXPECT_GT(present, 0) << "the readers' fills went in";
  answers_->SetMap(fd_);
  for (size_t m = 1; m < maps.size(); ++m) close(maps[m]);
}

TEST(XdpAnswersWithoutMapTest, KeepsGenerationsOnly) {
  XdpAnswers answers(-1);
  uint64_t g = answers.Begin();
  answers.Fill(XdpAnswer(XdpGetattrKey(5), g, 0, {}));
  const Ino inodes[] = {5};
  answers.Committed(inodes, {});
  EXPECT_GT(answers.Begin(), g);
}

}  // namespace
}  // namespace sealfs
