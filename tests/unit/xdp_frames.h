// Ethernet II / IPv4 / UDP frames for the XDP fast path tests, built and
// checksummed byte by byte (RFC 791, RFC 768, RFC 1071), independently of the
// BPF program under test.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace sealfs::xdptest {

// Offsets in a frame with an IPv4 header of 20 bytes.
inline constexpr size_t kEthLen = 14;
inline constexpr size_t kIpOff = kEthLen;
inline constexpr size_t kUdpOff = kIpOff + 20;
inline constexpr size_t kMsgOff = kUdpOff + 8;

// The two ends of a datagram, host byte order.
struct Ends {
  std::array<uint8_t, 6> src_mac{0x02, 0, 0, 0, 0, 0x01};
  std::array<uint8_t, 6> dst_mac{0x02, 0, 0, 0, 0, 0x02};
  uint32_t src_ip = 0xc6120001;  // 198.18.0.1
  uint32_t dst_ip = 0xc6120002;  // 198.18.0.2
  uint16_t src_port = 40000;
  uint16_t dst_port = 7200;
  uint8_t ttl = 64;
  uint16_t ip_id = 0x1234;
  uint16_t frag_off = 0x4000;  // DF
  bool udp_checksum = true;    // false: send 0 (no checksum)
};

// The same ends seen from the other side (addresses and ports swapped).
Ends Reversed(const Ends& e);

// A frame carrying `payload` in one UDP datagram, with correct lengths and
// checksums.
std::vector<uint8_t> BuildFrame(const Ends& e, std::span<const uint8_t> payload);

// The RFC 1071 sum of `bytes` (big-endian 16-bit words, an odd last byte
// padded with zero) added to `sum`, folded to 16 bits.
uint16_t OnesSum(std::span<const uint8_t> bytes, uint32_t sum = 0);

// The sum of the UDP pseudo-header and the `udp_len` bytes at kUdpOff
// (which the frame must hold); 0xffff when the UDP checksum is right.
uint16_t UdpSum(std::span<const uint8_t> frame, uint16_t udp_len);

// Rewrites the IPv4 header checksum and, unless it is 0, the UDP checksum of
// a frame with a 20-byte IPv4 header, from the lengths its headers state
// (clamped to the frame).
void FixChecksums(std::vector<uint8_t>* frame);

uint16_t GetBe16(std::span<const uint8_t> b, size_t at);
void PutBe16(std::span<uint8_t> b, size_t at, uint16_t v);

}  // namespace sealfs::xdptest
