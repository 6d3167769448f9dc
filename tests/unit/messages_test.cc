#include "messages.h"

#include <gtest/gtest.h>

namespace sealfs {
namespace {

TEST(MessagesTest, EntryRoundTrip) {
  Entry e{.ino = MakeIno(3, 99), .mode = 0100644, .has_attr = 1};
  e.attr.ino = e.ino;
  e.attr.size = 1ull << 40;
  e.attr.mtime_ns = -5;  // before the epoch
  std::vector<uint8_t> bytes = Encode(e);
  Entry out;
  ASSERT_TRUE(Decode(bytes, &out));
  EXPECT_EQ(out.ino, e.ino);
  EXPECT_EQ(out.attr, e.attr);
}

TEST(MessagesTest, ReaddirRoundTrip) {
  ReaddirResp r;
  for (int i = 0; i < 100; ++i)
    r.entries.push_back({.name = "f" + std::to_string(i), .next_cookie = uint64_t(i)});
  r.eof = 1;
  std::vector<uint8_t> bytes = Encode(r);
  ReaddirResp out;
  ASSERT_TRUE(Decode(bytes, &out));
  ASSERT_EQ(out.entries.size(), 100u);
  EXPECT_EQ(out.entries[42].name, "f42");
  EXPECT_EQ(out.eof, 1);
}

TEST(MessagesTest, RejectsTruncatedPayloadAtEveryLength) {
  LookupReq q{.parent = 77, .name = "some-name"};
  std::vector<uint8_t> bytes = Encode(q);
  for (size_t n = 0; n < bytes.size(); ++n) {
    LookupReq out;
    EXPECT_FALSE(Decode(std::span<const uint8_t>(bytes.data(), n), &out)) << "length " << n;
  }
}

TEST(MessagesTest, RejectsTrailingBytes) {
  InoReq q{5};
  std::vector<uint8_t> bytes = Encode(q);
  bytes.push_back(0);
  InoReq out;
  EXPECT_FALSE(Decode(bytes, &out));
}

TEST(MessagesTest, RejectsStringLengthBeyondPayload) {
  std::vector<uint8_t> bytes;
  Writer w(&bytes);
  w.U64(1);
  w.U32(0xfffffff0);  // claims a 4 GiB name
  w.Raw("abc", 3);
  LookupReq out;
  EXPECT_FALSE(Decode(bytes, &out));
}

TEST(MessagesTest, RejectsVectorCountBeyondPayloadWithoutAllocating) {
  std::vector<uint8_t> bytes;
  Writer w(&bytes);
  w.U32(0x7fffffff);  // two billion entries in a 5-byte payload
  w.U8(1);
  ReaddirResp out;
  EXPECT_FALSE(Decode(bytes, &out));
  EXPECT_TRUE(out.entries.empty());
}

TEST(MessagesTest, WriteDataIsAViewIntoThePayload) {
  std::vector<uint8_t> bytes;
  Writer w(&bytes);
  w.U64(9);
  w.U64(2);
  w.U32(100);
  w.Bytes("payload-bytes");
  WriteReq out;
  ASSERT_TRUE(Decode(bytes, &out));
  EXPECT_EQ(out.data, "payload-bytes");
  EXPECT_GE(reinterpret_cast<const uint8_t*>(out.data.data()), bytes.data());
  EXPECT_LT(reinterpret_cast<const uint8_t*>(out.data.data()), bytes.data() + bytes.size());
}

}  // namespace
}  // namespace sealfs
