#include "frame.h"

#include <cstring>

namespace sealfs {
namespace {

// Byte offsets of the header fields.
constexpr size_t kOffMagic = 0, kOffVersion = 4, kOffFlags = 5, kOffOpcode = 6, kOffRequestId = 8,
                 kOffEpoch = 16, kOffStatus = 24, kOffPayloadLen = 28;

template <typename T>
void Put(HeaderBytes& b, size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof v);
}
template <typename T>
T Get(std::span<const uint8_t, kFrameHeaderSize> b, size_t off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof v);
  return v;
}

}  // namespace

HeaderBytes EncodeHeader(const FrameHeader& h) {
  HeaderBytes b{};
  Put(b, kOffMagic, kFrameMagic);
  Put(b, kOffVersion, kProtocolVersion);
  Put(b, kOffFlags, h.flags);
  Put(b, kOffOpcode, h.opcode);
  Put(b, kOffRequestId, h.request_id);
  Put(b, kOffEpoch, h.epoch);
  Put(b, kOffStatus, h.status);
  Put(b, kOffPayloadLen, h.payload_len);
  return b;
}

HeaderError DecodeHeader(std::span<const uint8_t, kFrameHeaderSize> b, FrameHeader* out) {
  if (Get<uint32_t>(b, kOffMagic) != kFrameMagic) return HeaderError::kBadMagic;
  if (Get<uint8_t>(b, kOffVersion) != kProtocolVersion) return HeaderError::kBadVersion;
  out->flags = Get<uint8_t>(b, kOffFlags);
  if (out->flags & ~kFlagResponse) return HeaderError::kBadFlags;
  out->opcode = Get<uint16_t>(b, kOffOpcode);
  out->request_id = Get<uint64_t>(b, kOffRequestId);
  out->epoch = Get<uint64_t>(b, kOffEpoch);
  out->status = Get<int32_t>(b, kOffStatus);
  out->payload_len = Get<uint32_t>(b, kOffPayloadLen);
  if (out->payload_len > kMaxPayload) return HeaderError::kTooLong;
  return HeaderError::kNone;
}

std::string ToString(HeaderError e) {
  switch (e) {
    case HeaderError::kNone:
      return "ok";
    case HeaderError::kBadMagic:
      return "bad magic";
    case HeaderError::kBadVersion:
      return "unsupported protocol version";
    case HeaderError::kBadFlags:
      return "unknown flags";
    case HeaderError::kTooLong:
      return "payload length exceeds limit";
  }
  return "unknown";
}

}  // namespace sealfs
