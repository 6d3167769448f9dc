#include "xdp_frames.h"

#include <algorithm>
#include <utility>

namespace sealfs::xdptest {

namespace {
void PutBe32(std::span<uint8_t> b, size_t at, uint32_t v) {
  PutBe16(b, at, static_cast<uint16_t>(v >> 16));
  PutBe16(b, at + 2, static_cast<uint16_t>(v));
}
}  // namespace

uint16_t GetBe16(std::span<const uint8_t> b, size_t at) {
  return static_cast<uint16_t>(b[at] << 8 | b[at + 1]);
}

void PutBe16(std::span<uint8_t> b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}

Ends Reversed(const Ends& e) {
  Ends r = e;
  std::swap(r.src_mac, r.dst_mac);
  std::swap(r.src_ip, r.dst_ip);
  std::swap(r.src_port, r.dst_port);
  return r;
}

uint16_t OnesSum(std::span<const uint8_t> bytes, uint32_t sum) {
  for (size_t i = 0; i < bytes.size(); i += 2) {
    uint16_t word = static_cast<uint16_t>(bytes[i] << 8);
    if (i + 1 < bytes.size()) word |= bytes[i + 1];
    sum += word;
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

uint16_t UdpSum(std::span<const uint8_t> frame, uint16_t udp_len) {
  // Source and destination addresses, zero and protocol, UDP length.
  uint32_t sum = OnesSum(frame.subspan(kIpOff + 12, 8));
  sum += 17;
  sum += udp_len;
  return OnesSum(frame.subspan(kUdpOff, udp_len), sum);
}

std::vector<uint8_t> BuildFrame(const Ends& e, std::span<const uint8_t> payload) {
  std::vector<uint8_t> f(kMsgOff + payload.size());
  std::span<uint8_t> b(f);
  std::copy(e.dst_mac.begin(), e.dst_mac.end(), f.begin());
  std::copy(e.src_mac.begin(), e.src_mac.end(), f.begin() + 6);
  PutBe16(b, 12, 0x0800);
  f[kIpOff] = 0x45;
  PutBe16(b, kIpOff + 2, static_cast<uint16_t>(20 + 8 + payload.size()));
  PutBe16(b, kIpOff + 4, e.ip_id);
  PutBe16(b, kIpOff + 6, e.frag_off);
  f[kIpOff + 8] = e.ttl;
  f[kIpOff + 9] = 17;
  PutBe32(b, kIpOff + 12, e.src_ip);
  PutBe32(b, kIpOff + 16, e.dst_ip);
  PutBe16(b, kUdpOff, e.src_port);
  PutBe16(b, kUdpOff + 2, e.dst_port);
  PutBe16(b, kUdpOff + 4, static_cast<uint16_t>(8 + payload.size()));
  std::copy(payload.begin(), payload.end(), f.begin() + kMsgOff);
  if (e.udp_checksum) PutBe16(b, kUdpOff + 6, 1);  // nonzero: FixChecksums computes it
  FixChecksums(&f);
  return f;
}

void FixChecksums(std::vector<uint8_t>* frame) {
  std::span<uint8_t> b(*frame);
  if (b.size() < kUdpOff) return;
  PutBe16(b, kIpOff + 10, 0);
  PutBe16(b, kIpOff + 10, static_cast<uint16_t>(~OnesSum(b.subspan(kIpOff, 20))));
  if (b.size() < kMsgOff || GetBe16(b, kUdpOff + 6) == 0) return;
  uint16_t udp_len = std::min<size_t>(GetBe16(b, kUdpOff + 4), b.size() - kUdpOff);
  PutBe16(b, kUdpOff + 6, 0);
  uint16_t check = static_cast<uint16_t>(~UdpSum(b, udp_len));
  PutBe16(b, kUdpOff + 6, check ? check : 0xffff);
}

}  // namespace sealfs::xdptest
