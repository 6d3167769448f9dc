#include "xdp_reference_model.h"

#include <cstring>

#include "xdp_frames.h"

namespace sealfs::xdptest {

namespace {

// Offsets of the message's fields in the frame.
constexpr size_t kMagic = kMsgOff + 0;
constexpr size_t kVersion = kMsgOff + 4;
constexpr size_t kFlags = kMsgOff + 5;
constexpr size_t kStatus = kMsgOff + 6;
constexpr size_t kGeneration = kMsgOff + 16;
constexpr size_t kKey = kMsgOff + 24;
constexpr size_t kOp = kKey + 8;
constexpr size_t kPayload = kMsgOff + 104;
constexpr size_t kMsgLen = 200;

bool AllZero(std::span<const uint8_t> b) {
  for (uint8_t c : b)
    if (c) return false;
  return true;
}

XdpVerdict Pass(sealfs_xdp_counter counter) { return {false, counter, {}}; }

}  // namespace

XdpReferenceModel::KeyBytes XdpReferenceModel::Bytes(const sealfs_xdp_key& key) {
  KeyBytes b;
  std::memcpy(b.data(), &key, b.size());
  return b;
}

void XdpReferenceModel::Put(const sealfs_xdp_key& key, const sealfs_xdp_answer& value) {
  answers_[Bytes(key)] = value;
}

void XdpReferenceModel::Erase(const sealfs_xdp_key& key) { answers_.erase(Bytes(key)); }

XdpVerdict XdpReferenceModel::Run(std::span<const uint8_t> f) const {
  if (f.size() < kEthLen || GetBe16(f, 12) != 0x0800) return Pass(SEALFS_XDP_PASS_NOT_IPV4);
  if (f.size() < kUdpOff || f[kIpOff] != 0x45) return Pass(SEALFS_XDP_PASS_IP_HEADER);
  if (GetBe16(f, kIpOff + 6) & 0xbfff) return Pass(SEALFS_XDP_PASS_FRAGMENT);
  if (f[kIpOff + 9] != 17) return Pass(SEALFS_XDP_PASS_NOT_UDP);
  if (f.size() < kMsgOff || GetBe16(f, kUdpOff + 2) != port_) return Pass(SEALFS_XDP_PASS_PORT);
  if (f.size() != kMsgOff + kMsgLen || GetBe16(f, kIpOff + 2) != 20 + 8 + kMsgLen ||
      GetBe16(f, kUdpOff + 4) != 8 + kMsgLen)
    return Pass(SEALFS_XDP_PASS_LENGTH);
  if (f[kMagic] != 'S' || f[kMagic + 1] != 'X' || f[kMagic + 2] != 'D' || f[kMagic + 3] != 'P')
    return Pass(SEALFS_XDP_PASS_MAGIC);
  if (f[kVersion] != 1) return Pass(SEALFS_XDP_PASS_VERSION);
  if (f[kOp] != 1 && f[kOp] != 2) return Pass(SEALFS_XDP_PASS_OP);
  if (f[kFlags] || !AllZero(f.subspan(kStatus, 2)) || !AllZero(f.subspan(kGeneration, 8)))
    return Pass(SEALFS_XDP_PASS_HEADER);
  // The UDP checksum is not checked (often partial where XDP sees it).
  if (OnesSum(f.subspan(kIpOff, 20)) != 0xffff) return Pass(SEALFS_XDP_PASS_IP_CHECKSUM);

  KeyBytes key;
  std::memcpy(key.data(), f.data() + kKey, key.size());
  auto it = answers_.find(key);
  if (it == answers_.end()) return Pass(SEALFS_XDP_MISS);
  const sealfs_xdp_answer& a = it->second;
  if (a.check != sealfs_xdp_answer_check(&a)) return Pass(SEALFS_XDP_PASS_TORN);
  if (Bytes(a.key) != key) return Pass(SEALFS_XDP_KEY_MISMATCH);

  XdpVerdict v{true, SEALFS_XDP_HIT, std::vector<uint8_t>(f.begin(), f.end())};
  std::span<uint8_t> r(v.reply);
  for (size_t i = 0; i < 6; ++i) std::swap(r[i], r[6 + i]);
  for (size_t i = 0; i < 4; ++i) std::swap(r[kIpOff + 12 + i], r[kIpOff + 16 + i]);
  r[kIpOff + 8] = 64;  // TTL
  for (size_t i = 0; i < 2; ++i) std::swap(r[kUdpOff + i], r[kUdpOff + 2 + i]);
  r[kFlags] = SEALFS_XDP_FLAG_REPLY;
  r[kStatus] = static_cast<uint8_t>(a.status);
  r[kStatus + 1] = static_cast<uint8_t>(a.status >> 8);
  for (size_t i = 0; i < 8; ++i) r[kGeneration + i] = static_cast<uint8_t>(a.generation >> 8 * i);
  std::memcpy(&r[kPayload], &a.payload, sizeof(a.payload));
  PutBe16(r, kUdpOff + 6, 1);  // the reply always carries a UDP checksum
  FixChecksums(&v.reply);
  return v;
}

}  // namespace sealfs::xdptest
