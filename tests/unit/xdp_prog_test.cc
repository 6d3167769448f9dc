// The XDP fast path program (bpf/sealfs_xdp.bpf.c) run by the kernel on
// crafted frames with bpf_prog_test_run_opts: answers byte for byte, every
// reason to pass, and a fuzz run compared with XdpReferenceModel. Needs the
// privilege to load BPF programs (root or CAP_BPF + CAP_NET_ADMIN).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "sealfs_xdp.skel.h"
#include "xdp_frames.h"
#include "xdp_reference_model.h"
#include "xdp_wire.h"

namespace sealfs::xdptest {
namespace {

constexpr uint16_t kPort = 7200;
using Counters = std::array<uint64_t, SEALFS_XDP_COUNTERS>;
using Bytes = std::vector<uint8_t>;

Bytes MsgBytes(const sealfs_xdp_msg& m) {
  const auto* p = reinterpret_cast<const uint8_t*>(&m);
  return Bytes(p, p + sizeof(m));
}

sealfs_xdp_payload AttrPayload(Ino ino, uint64_t size) {
  sealfs_xdp_payload p{};
  p.attr.ino = ino;
  p.attr.mode = 0100644;
  p.attr.nlink = 1;
  p.attr.uid = 1000;
  p.attr.gid = 100;
  p.attr.size = size;
  p.attr.blocks = (size + 511) / 512;
  p.attr.mtime_ns = 1'700'000'000'123'456'789;
  p.attr.parent = MakeIno(1, 1);
  return p;
}

sealfs_xdp_payload EntryPayload(Ino ino) {
  sealfs_xdp_payload p{};
  p.entry.ino = ino;
  p.entry.mode = 040755;
  p.entry.has_attr = 1;
  p.entry.attr = AttrPayload(ino, 4096).attr;
  p.entry.attr.mode = 040755;
  p.entry.attr.nlink = 2;
  return p;
}

sealfs_xdp_key LookupKey(Ino parent, std::string_view name) {
  Result<sealfs_xdp_key> key = XdpLookupKey(parent, name);
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return *key;
}

std::string Hex(std::span<const uint8_t> b) {
  std::string s;
  for (size_t i = 0; i < b.size(); ++i) s += fmt::format("{}{:02x}", i % 16 ? " " : "\n  ", b[i]);
  return s;
}

class XdpProgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    skel_ = sealfs_xdp__open();
    ASSERT_NE(skel_, nullptr) << "opening the sealfs_xdp skeleton: " << std::strerror(errno);
    skel_->rodata->sealfs_xdp_port = kPort;
    int err = sealfs_xdp__load(skel_);
    if (err == -EPERM || err == -EACCES)
      GTEST_SKIP() << "no privilege to load BPF programs (" << std::strerror(-err)
                   << "): run as root, or with CAP_BPF and CAP_NET_ADMIN";
    ASSERT_EQ(err, 0) << "loading sealfs_xdp: " << std::strerror(-err);
  }
  void TearDown() override { sealfs_xdp__destroy(skel_); }

  void Put(const sealfs_xdp_key& key, const sealfs_xdp_answer& a) {
    ASSERT_EQ(bpf_map_update_elem(bpf_map__fd(skel_->maps.answers), &key, &a, BPF_ANY), 0);
    model_.Put(key, a);
  }
  void Erase(const sealfs_xdp_key& key) {
    bpf_map_delete_elem(bpf_map__fd(skel_->maps.answers), &key);
    model_.Erase(key);
  }

  // Runs the program once on `frame`: its return value and the frame after it.
  std::pair<int, Bytes> Run(std::span<const uint8_t> frame) {
    Bytes out(4096);
    bpf_test_run_opts opts{};
    opts.sz = sizeof(opts);
    opts.data_in = frame.data();
    opts.data_size_in = static_cast<uint32_t>(frame.size());
    opts.data_out = out.data();
    opts.data_size_out = static_cast<uint32_t>(out.size());
    int err = bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.sealfs_xdp), &opts);
    EXPECT_EQ(err, 0) << "bpf_prog_test_run_opts: " << std::strerror(-err);
    out.resize(opts.data_size_out);
    return {static_cast<int>(opts.retval), out};
  }

  Counters ReadCounters() {
    Counters total{};
    std::vector<uint64_t> per_cpu(libbpf_num_possible_cpus());
    for (uint32_t i = 0; i < SEALFS_XDP_COUNTERS; ++i) {
      EXPECT_EQ(bpf_map_lookup_elem(bpf_map__fd(skel_->maps.counters), &i, per_cpu.data()), 0);
      for (uint64_t v : per_cpu) total[i] += v;
    }
    return total;
  }

  // Runs `frame` and checks that the program passes it untouched, counting
  // it in RECEIVED and `reason` only, as the model says.
  void ExpectPass(const Bytes& frame, sealfs_xdp_counter reason) {
    EXPECT_EQ(model_.Run(frame).counter, reason) << "the model disagrees";
    Counters before = ReadCounters();
    auto [ret, out] = Run(frame);
    EXPECT_EQ(ret, XDP_PASS);
    EXPECT_EQ(out, frame) << "a passed frame was changed";
    Counters want = before;
    want[SEALFS_XDP_RECEIVED]++;
    want[reason]++;
    EXPECT_EQ(ReadCounters(), want);
  }

  // A request frame for `key` (with a UDP checksum unless told otherwise).
  Bytes Request(const sealfs_xdp_key& key, uint64_t id = 7, Ends ends = {}) {
    return BuildFrame(ends, MsgBytes(XdpRequest(key, id)));
  }

  sealfs_xdp* skel_ = nullptr;
  XdpReferenceModel model_{kPort};
  const sealfs_xdp_key file_key_ = XdpGetattrKey(MakeIno(1, 42));
};

TEST_F(XdpProgTest, GetattrHitIsAnsweredInPlace) {
  sealfs_xdp_answer a = XdpAnswer(file_key_, 9, 0, AttrPayload(MakeIno(1, 42), 12345));
  Put(file_key_, a);
  // The request's UDP checksum: none, right, or partial as a veth hands it
  // over (not checked); the reply's is always computed.
  for (int udp_checksum : {0, 1, 2}) {
    Ends ends;
    ends.udp_checksum = udp_checksum != 0;
    ends.ttl = 3;
    sealfs_xdp_msg req = XdpRequest(file_key_, 0x0123456789abcdef);
    Bytes frame = BuildFrame(ends, MsgBytes(req));
    if (udp_checksum == 2) PutBe16(frame, kUdpOff + 6, 0x1234);
    Counters before = ReadCounters();
    auto [ret, out] = Run(frame);
    ASSERT_EQ(ret, XDP_TX);
    Ends back = Reversed(ends);
    back.ttl = 64;
    back.udp_checksum = true;
    Bytes want = BuildFrame(back, MsgBytes(XdpReply(req, a)));
    EXPECT_EQ(out, want) << "got" << Hex(out) << "\nwant" << Hex(want);
    EXPECT_EQ(OnesSum(std::span(out).subspan(kIpOff, 20)), 0xffff) << "IP header checksum";
    EXPECT_EQ(UdpSum(out, SEALFS_XDP_UDP_LEN), 0xffff) << "UDP checksum";
    Counters after = ReadCounters();
    EXPECT_EQ(after[SEALFS_XDP_RECEIVED], before[SEALFS_XDP_RECEIVED] + 1);
    EXPECT_EQ(after[SEALFS_XDP_HIT], before[SEALFS_XDP_HIT] + 1);
  }
}

TEST_F(XdpProgTest, LookupHitCarriesTheAnswersStatusAndGeneration) {
  sealfs_xdp_key dir = LookupKey(MakeIno(1, 1), "dir");
  sealfs_xdp_key longest = LookupKey(MakeIno(1, 1), std::string(SEALFS_XDP_NAME_MAX, 'n'));
  sealfs_xdp_key gone = LookupKey(MakeIno(1, 1), "gone");
  for (const sealfs_xdp_answer& a : {XdpAnswer(dir, 1, 0, EntryPayload(MakeIno(2, 5))),
                                     XdpAnswer(longest, 2, 0, EntryPayload(MakeIno(2, 6))),
                                     XdpAnswer(gone, 3, ENOENT, sealfs_xdp_payload{})}) {
    Put(a.key, a);
    sealfs_xdp_msg req = XdpRequest(a.key, 99);
    auto [ret, out] = Run(BuildFrame({}, MsgBytes(req)));
    ASSERT_EQ(ret, XDP_TX);
    Bytes want = BuildFrame(Reversed({}), MsgBytes(XdpReply(req, a)));
    EXPECT_EQ(out, want) << "got" << Hex(out) << "\nwant" << Hex(want);
  }
}

TEST_F(XdpProgTest, MissPasses) {
  ExpectPass(Request(file_key_), SEALFS_XDP_MISS);
  // Keys compare whole: the bytes after the name must be zero.
  sealfs_xdp_key dir = LookupKey(MakeIno(1, 1), "dir");
  Put(dir, XdpAnswer(dir, 1, 0, EntryPayload(MakeIno(2, 5))));
  sealfs_xdp_key padded = dir;
  padded.name[10] = 'x';
  ExpectPass(Request(padded), SEALFS_XDP_MISS);
  sealfs_xdp_key other_op = dir;
  other_op.op = SEALFS_XDP_GETATTR;
  ExpectPass(Request(other_op), SEALFS_XDP_MISS);
}

TEST_F(XdpProgTest, AnAnswerUnderAnotherKeyIsNeverSent) {
  sealfs_xdp_key other = XdpGetattrKey(MakeIno(1, 43));
  Put(file_key_, XdpAnswer(other, 1, 0, AttrPayload(MakeIno(1, 43), 1)));
  ExpectPass(Request(file_key_), SEALFS_XDP_KEY_MISMATCH);
}

TEST_F(XdpProgTest, AnAnswerThatFailsItsCheckIsNeverSent) {
  sealfs_xdp_answer a = XdpAnswer(file_key_, 1, 0, AttrPayload(MakeIno(1, 42), 1));
  a.payload.attr.size = 2;  // as if read half-way through an update
  Put(file_key_, a);
  ExpectPass(Request(file_key_), SEALFS_XDP_PASS_TORN);
}

// A request for the cached file, changed by `edit`, with its checksums
// fixed afterwards unless `fix` is false.
Bytes Edited(const std::function<void(Bytes&)>& edit, bool fix = true) {
  Bytes f = BuildFrame({}, MsgBytes(XdpRequest(XdpGetattrKey(MakeIno(1, 42)), 7)));
  edit(f);
  if (fix) FixChecksums(&f);
  return f;
}

TEST_F(XdpProgTest, EveryInvalidRequestPasses) {
  Put(file_key_, XdpAnswer(file_key_, 1, 0, AttrPayload(MakeIno(1, 42), 1)));
  auto msg_byte = [](size_t at, uint8_t v) { return [=](Bytes& f) { f[kMsgOff + at] = v; }; };
  struct Case {
    const char* what;
    Bytes frame;
    sealfs_xdp_counter reason;
  };
  Ends other_port;
  other_port.dst_port = kPort + 1;
  Bytes ipv6 = Request(file_key_);
  PutBe16(ipv6, 12, 0x86dd);
  ipv6[kIpOff] = 0x60;
  Bytes ip_options = Request(file_key_);
  ip_options.insert(ip_options.begin() + kUdpOff, {1, 1, 1, 0});  // NOP NOP NOP EOL
  ip_options[kIpOff] = 0x46;
  PutBe16(ip_options, kIpOff + 2, GetBe16(ip_options, kIpOff + 2) + 4);
  PutBe16(ip_options, kIpOff + 10, 0);
  PutBe16(ip_options, kIpOff + 10,
          static_cast<uint16_t>(~OnesSum(std::span(ip_options).subspan(kIpOff, 24))));
  Bytes short_msg(sizeof(sealfs_xdp_msg) - 1), long_msg(sizeof(sealfs_xdp_msg) + 1);
  std::memcpy(short_msg.data(), MsgBytes(XdpRequest(file_key_, 7)).data(), short_msg.size());
  std::memcpy(long_msg.data(), MsgBytes(XdpRequest(file_key_, 7)).data(), short_msg.size());
  const Case cases[] = {
      {"IPv6", ipv6, SEALFS_XDP_PASS_NOT_IPV4},
      {"VLAN tag", Edited([](Bytes& f) { PutBe16(f, 12, 0x8100); }), SEALFS_XDP_PASS_NOT_IPV4},
      {"ARP", Edited([](Bytes& f) { PutBe16(f, 12, 0x0806); }), SEALFS_XDP_PASS_NOT_IPV4},
      {"IP options", ip_options, SEALFS_XDP_PASS_IP_HEADER},
      {"IP version 6 in an IPv4 frame", Edited([](Bytes& f) { f[kIpOff] = 0x65; }),
       SEALFS_XDP_PASS_IP_HEADER},
      {"more fragments", Edited([](Bytes& f) { PutBe16(f, kIpOff + 6, 0x2000); }),
       SEALFS_XDP_PASS_FRAGMENT},
      {"fragment offset", Edited([](Bytes& f) { PutBe16(f, kIpOff + 6, 0x0001); }),
       SEALFS_XDP_PASS_FRAGMENT},
      {"reserved IP flag", Edited([](Bytes& f) { PutBe16(f, kIpOff + 6, 0x8000); }),
       SEALFS_XDP_PASS_FRAGMENT},
      {"TCP", Edited([](Bytes& f) { f[kIpOff + 9] = 6; }), SEALFS_XDP_PASS_NOT_UDP},
      {"other port", Request(file_key_, 7, other_port), SEALFS_XDP_PASS_PORT},
      {"one byte short", Edited([](Bytes& f) { f.pop_back(); }, false), SEALFS_XDP_PASS_LENGTH},
      {"one byte long", Edited([](Bytes& f) { f.push_back(0); }, false), SEALFS_XDP_PASS_LENGTH},
      {"short message", BuildFrame({}, short_msg), SEALFS_XDP_PASS_LENGTH},
      {"long message", BuildFrame({}, long_msg), SEALFS_XDP_PASS_LENGTH},
      {"IP length", Edited([](Bytes& f) { PutBe16(f, kIpOff + 2, 20 + 8 + 199); }),
       SEALFS_XDP_PASS_LENGTH},
      {"UDP length", Edited([](Bytes& f) { PutBe16(f, kUdpOff + 4, 8 + 199); }),
       SEALFS_XDP_PASS_LENGTH},
      {"bad magic", Edited(msg_byte(0, 'T')), SEALFS_XDP_PASS_MAGIC},
      {"version 0", Edited(msg_byte(4, 0)), SEALFS_XDP_PASS_VERSION},
      {"version 2", Edited(msg_byte(4, 2)), SEALFS_XDP_PASS_VERSION},
      {"op 0", Edited(msg_byte(32, 0)), SEALFS_XDP_PASS_OP},
      {"op 3", Edited(msg_byte(32, 3)), SEALFS_XDP_PASS_OP},
      {"a reply", Edited(msg_byte(5, SEALFS_XDP_FLAG_REPLY)), SEALFS_XDP_PASS_HEADER},
      {"status", Edited(msg_byte(7, 1)), SEALFS_XDP_PASS_HEADER},
      {"generation", Edited(msg_byte(23, 1)), SEALFS_XDP_PASS_HEADER},
      {"IP checksum", Edited([](Bytes& f) { f[kIpOff + 10] ^= 1; }, false),
       SEALFS_XDP_PASS_IP_CHECKSUM},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    ExpectPass(c.frame, c.reason);
  }
  // The unchanged request is answered: each case failed for its own reason.
  EXPECT_EQ(Run(Request(file_key_)).first, XDP_TX);
}

TEST_F(XdpProgTest, TruncatedFramesPass) {
  Put(file_key_, XdpAnswer(file_key_, 1, 0, AttrPayload(MakeIno(1, 42), 1)));
  Bytes full = Request(file_key_);
  // bpf_prog_test_run_opts refuses frames shorter than an Ethernet header.
  for (size_t len = kEthLen; len < full.size(); ++len) {
    SCOPED_TRACE(len);
    sealfs_xdp_counter reason = len < kUdpOff   ? SEALFS_XDP_PASS_IP_HEADER
                                : len < kMsgOff ? SEALFS_XDP_PASS_PORT
                                                : SEALFS_XDP_PASS_LENGTH;
    ExpectPass(Bytes(full.begin(), full.begin() + len), reason);
  }
}

// Random frames, and valid requests with bits flipped, cut short or
// extended, with and without their checksums fixed, while the map changes:
// the program must do exactly what the model does, byte for byte.
TEST_F(XdpProgTest, FuzzAgreesWithTheReferenceModel) {
  constexpr int kFrames = 150'000;
  const uint64_t seed = std::random_device{}();
  SCOPED_TRACE(fmt::format("seed {}", seed));
  std::mt19937_64 rng(seed);
  auto below = [&](uint64_t n) { return rng() % n; };

  // Keys: half of them have answers; one answer holds another key and one
  // fails its check.
  std::vector<sealfs_xdp_key> keys;
  for (uint64_t i = 0; i < 24; ++i) keys.push_back(XdpGetattrKey(MakeIno(1, 100 + i)));
  for (uint64_t i = 0; i < 24; ++i)
    keys.push_back(LookupKey(MakeIno(1, 1), std::string(1 + i * 63 / 23, 'a' + i)));
  uint64_t generation = 0;
  auto answer = [&](const sealfs_xdp_key& key) {
    return XdpAnswer(key, ++generation, below(4) ? 0 : ENOENT,
                     key.op == SEALFS_XDP_GETATTR ? AttrPayload(key.ino, below(1 << 20))
                                                  : EntryPayload(MakeIno(2, below(1000))));
  };
  for (size_t i = 0; i < keys.size(); i += 2) Put(keys[i], answer(keys[i]));
  Put(keys[2], answer(keys[3]));
  sealfs_xdp_answer torn = answer(keys[4]);
  torn.check ^= 1;
  Put(keys[4], torn);

  Counters tally = ReadCounters();
  int answered = 0;
  for (int n = 0; n < kFrames; ++n) {
    if (n % 1000 == 999) {  // the server changes an answer, or drops it
      // Not the mismatched and the torn one: each must stay to be met.
      const sealfs_xdp_key& key = keys[5 + below(keys.size() - 5)];
      if (below(2))
        Put(key, answer(key));
      else
        Erase(key);
    }
    Ends ends;
    ends.udp_checksum = below(2);
    ends.ttl = static_cast<uint8_t>(1 + below(255));
    ends.src_port = static_cast<uint16_t>(below(65536));
    Bytes f = Request(keys[below(keys.size())], rng(), ends);
    const uint64_t kind = below(6);
    switch (kind) {
      case 0:  // random bytes, sometimes behind plausible headers
        f.resize(kEthLen + below(300));
        for (uint8_t& b : f) b = static_cast<uint8_t>(rng());
        if (below(2) && f.size() >= kMsgOff) {
          PutBe16(f, 12, 0x0800);
          f[kIpOff] = 0x45;
          f[kIpOff + 9] = 17;
          PutBe16(f, kUdpOff + 2, kPort);
          FixChecksums(&f);
        }
        break;
      case 1:  // bits flipped
      case 2:  // bits flipped, checksums fixed
        for (uint64_t k = 1 + below(4); k > 0; --k) f[below(f.size())] ^= 1 << below(8);
        if (kind == 2) FixChecksums(&f);
        break;
      case 3:  // cut short
        f.resize(kEthLen + below(f.size() - kEthLen));
        break;
      case 4:  // extended, sometimes with lengths to match
        for (uint64_t k = 1 + below(64); k > 0; --k) f.push_back(static_cast<uint8_t>(rng()));
        if (below(2)) {
          PutBe16(f, kIpOff + 2, static_cast<uint16_t>(f.size() - kIpOff));
          PutBe16(f, kUdpOff + 4, static_cast<uint16_t>(f.size() - kUdpOff));
          FixChecksums(&f);
        }
        break;
      default:  // as built
        break;
    }
    XdpVerdict want = model_.Run(f);
    auto [ret, out] = Run(f);
    ASSERT_EQ(ret, want.tx ? XDP_TX : XDP_PASS) << "frame " << n << Hex(f);
    ASSERT_EQ(out, want.tx ? want.reply : f) << "frame " << n << Hex(f);
    tally[SEALFS_XDP_RECEIVED]++;
    tally[want.counter]++;
    answered += want.tx;
    if (n % 10'000 == 9'999) {
      ASSERT_EQ(ReadCounters(), tally) << "after frame " << n;
    }
  }
  ASSERT_EQ(ReadCounters(), tally);
  // The run reached every outcome.
  for (uint32_t i = 0; i < SEALFS_XDP_COUNTERS; ++i) EXPECT_GT(tally[i], 0u) << "counter " << i;
  std::printf("%d frames, %d answered\n", kFrames, answered);
}

}  // namespace
}  // namespace sealfs::xdptest
