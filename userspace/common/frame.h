// The TCP frame: a fixed 32-byte little-endian header followed by a bounded
// payload. See docs/protocol.md for the byte layout. The header is validated
// before any payload memory is allocated.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

namespace sealfs {

inline constexpr uint32_t kFrameMagic = 0x4C414553;  // "SEAL" in little-endian
inline constexpr uint8_t kProtocolVersion = 1;
inline constexpr size_t kFrameHeaderSize = 32;
// Largest payload a peer may send: one maximal write (1 MiB) plus headroom for
// its fields, or a READDIR reply. Anything larger is a protocol violation.
inline constexpr uint32_t kMaxPayload = (4u << 20) + 4096;

enum FrameFlags : uint8_t {
  kFlagResponse = 1 << 0,
};

struct FrameHeader {
  uint16_t opcode = 0;
  uint8_t flags = 0;
  uint64_t request_id = 0;
  uint64_t epoch = 0;  // membership version of the sender
  int32_t status = 0;  // responses: 0 or a positive errno
  uint32_t payload_len = 0;
};

using HeaderBytes = std::array<uint8_t, kFrameHeaderSize>;

HeaderBytes EncodeHeader(const FrameHeader& h);

enum class HeaderError { kNone, kBadMagic, kBadVersion, kBadFlags, kTooLong };

// Decodes and validates a header. On failure returns the reason and leaves
// *out unspecified; the connection must then be closed.
HeaderError DecodeHeader(std::span<const uint8_t, kFrameHeaderSize> bytes, FrameHeader* out);
std::string ToString(HeaderError e);

}  // namespace sealfs
