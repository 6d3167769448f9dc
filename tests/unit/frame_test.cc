#include "frame.h"

#include <gtest/gtest.h>

#include <cstring>

namespace sealfs {
namespace {

FrameHeader Sample() {
  FrameHeader h;
  h.opcode = 14;
  h.flags = kFlagResponse;
  h.request_id = 0x1122334455667788ull;
  h.epoch = 7;
  h.status = ENOENT;
  h.payload_len = 1234;
  return h;
}

TEST(FrameTest, HeaderRoundTrip) {
  HeaderBytes b = EncodeHeader(Sample());
  FrameHeader out;
  ASSERT_EQ(DecodeHeader(b, &out), HeaderError::kNone);
  EXPECT_EQ(out.opcode, 14);
  EXPECT_EQ(out.flags, kFlagResponse);
  EXPECT_EQ(out.request_id, 0x1122334455667788ull);
  EXPECT_EQ(out.epoch, 7u);
  EXPECT_EQ(out.status, ENOENT);
  EXPECT_EQ(out.payload_len, 1234u);
}

TEST(FrameTest, LayoutIsLittleEndianAndFixed) {
  HeaderBytes b = EncodeHeader(Sample());
  EXPECT_EQ(b.size(), 32u);
  EXPECT_EQ(std::memcmp(b.data(), "SEAL", 4), 0);
  EXPECT_EQ(b[4], kProtocolVersion);
  EXPECT_EQ(b[8], 0x88);  // request id, least significant byte first
}

TEST(FrameTest, RejectsBadMagic) {
  HeaderBytes b = EncodeHeader(Sample());
  b[0] ^= 0xff;
  FrameHeader out;
  EXPECT_EQ(DecodeHeader(b, &out), HeaderError::kBadMagic);
}

TEST(FrameTest, RejectsOtherVersion) {
  HeaderBytes b = EncodeHeader(Sample());
  b[4] = kProtocolVersion + 1;
  FrameHeader out;
  EXPECT_EQ(DecodeHeader(b, &out), HeaderError::kBadVersion);
}

TEST(FrameTest, RejectsUnknownFlags) {
  HeaderBytes b = EncodeHeader(Sample());
  b[5] = 0x80;
  FrameHeader out;
  EXPECT_EQ(DecodeHeader(b, &out), HeaderError::kBadFlags);
}

TEST(FrameTest, RejectsOversizedPayloadBeforeAllocation) {
  FrameHeader h = Sample();
  h.payload_len = kMaxPayload + 1;
  FrameHeader out;
  EXPECT_EQ(DecodeHeader(EncodeHeader(h), &out), HeaderError::kTooLong);
  h.payload_len = 0xffffffff;
  EXPECT_EQ(DecodeHeader(EncodeHeader(h), &out), HeaderError::kTooLong);
  h.payload_len = kMaxPayload;
  EXPECT_EQ(DecodeHeader(EncodeHeader(h), &out), HeaderError::kNone);
}

}  // namespace
}  // namespace sealfs
