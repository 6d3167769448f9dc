#include "xdp_wire.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace sealfs {
namespace {

std::vector<uint8_t> Bytes(const sealfs_xdp_msg& m) {
  const auto* p = reinterpret_cast<const uint8_t*>(&m);
  return std::vector<uint8_t>(p, p + sizeof(m));
}

TEST(XdpWireTest, Keys) {
  sealfs_xdp_key g = XdpGetattrKey(MakeIno(3, 9));
  EXPECT_EQ(g.ino, MakeIno(3, 9));
  EXPECT_EQ(g.op, SEALFS_XDP_GETATTR);
  EXPECT_EQ(g.name_len, 0);
  EXPECT_EQ(XdpLookupKey(1, "").err(), EINVAL);
  EXPECT_EQ(XdpLookupKey(1, std::string(SEALFS_XDP_NAME_MAX + 1, 'x')).err(), ENAMETOOLONG);
  Result<sealfs_xdp_key> l = XdpLookupKey(7, std::string(SEALFS_XDP_NAME_MAX, 'x'));
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->op, SEALFS_XDP_LOOKUP);
  EXPECT_EQ(l->name_len, SEALFS_XDP_NAME_MAX);
  EXPECT_EQ(std::string(l->name, l->name_len), std::string(SEALFS_XDP_NAME_MAX, 'x'));
}

TEST(XdpWireTest, ParsesExactlyValidRequests) {
  for (const sealfs_xdp_key& key : {XdpGetattrKey(5), *XdpLookupKey(5, "a")}) {
    sealfs_xdp_msg req = XdpRequest(key, 77);
    Result<sealfs_xdp_msg> parsed = XdpParseRequest(Bytes(req));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(std::memcmp(&*parsed, &req, sizeof(req)), 0);
    req.payload.bytes[5] = 1;  // the payload is not looked at
    EXPECT_TRUE(XdpParseRequest(Bytes(req)).ok());
  }
}

TEST(XdpWireTest, RefusesAnythingElse) {
  const sealfs_xdp_msg lookup = XdpRequest(*XdpLookupKey(5, "ab"), 1);
  const sealfs_xdp_msg getattr = XdpRequest(XdpGetattrKey(5), 1);
  std::vector<uint8_t> shorter = Bytes(lookup), longer = Bytes(lookup);
  shorter.pop_back();
  longer.push_back(0);
  EXPECT_FALSE(XdpParseRequest(shorter).ok());
  EXPECT_FALSE(XdpParseRequest(longer).ok());
  const std::function<void(sealfs_xdp_msg&)> edits[] = {
      [](sealfs_xdp_msg& m) { m.magic ^= 1; },
      [](sealfs_xdp_msg& m) { m.version = 2; },
      [](sealfs_xdp_msg& m) { m.flags = SEALFS_XDP_FLAG_REPLY; },
      [](sealfs_xdp_msg& m) { m.status = 1; },
      [](sealfs_xdp_msg& m) { m.generation = 1; },
      [](sealfs_xdp_msg& m) { m.key.op = 0; },
      [](sealfs_xdp_msg& m) { m.key.op = 3; },
      [](sealfs_xdp_msg& m) { m.key.name_len = 0; },
      [](sealfs_xdp_msg& m) { m.key.name_len = SEALFS_XDP_NAME_MAX + 1; },
      [](sealfs_xdp_msg& m) { m.key.name[2] = 'c'; },  // past name_len
      [](sealfs_xdp_msg& m) { m.key.zero[5] = 1; },
  };
  for (const auto& edit : edits) {
    sealfs_xdp_msg m = lookup;
    edit(m);
    EXPECT_EQ(XdpParseRequest(Bytes(m)).err(), EINVAL);
  }
  sealfs_xdp_msg named_getattr = getattr;
  named_getattr.key.name_len = 1;
  named_getattr.key.name[0] = 'a';
  EXPECT_EQ(XdpParseRequest(Bytes(named_getattr)).err(), EINVAL);
}

TEST(XdpWireTest, PayloadsAndReplies) {
  Attr attr{.ino = 11,
            .mode = 0100600,
            .nlink = 2,
            .uid = 3,
            .gid = 4,
            .size = 5,
            .blocks = 6,
            .rdev = 7,
            .atime_ns = 8,
            .mtime_ns = -9,
            .ctime_ns = 10,
            .parent = 12};
  sealfs_xdp_payload a = XdpPayload(attr);
  EXPECT_EQ(a.attr.ino, 11u);
  EXPECT_EQ(a.attr.mode, 0100600u);
  EXPECT_EQ(a.attr.nlink, 2u);
  EXPECT_EQ(a.attr.gid, 4u);
  EXPECT_EQ(a.attr.rdev, 7u);
  EXPECT_EQ(a.attr.mtime_ns, -9);
  EXPECT_EQ(a.attr.parent, 12u);
  for (size_t i = sizeof(sealfs_xdp_attr); i < sizeof(a.bytes); ++i) EXPECT_EQ(a.bytes[i], 0);
  sealfs_xdp_payload e = XdpPayload(Entry{.ino = 11, .mode = 0100600, .has_attr = 1, .attr = attr});
  EXPECT_EQ(e.entry.ino, 11u);
  EXPECT_EQ(e.entry.has_attr, 1);
  EXPECT_EQ(std::memcmp(&e.entry.attr, &a.attr, sizeof(a.attr)), 0);

  sealfs_xdp_msg req = XdpRequest(XdpGetattrKey(11), 99);
  sealfs_xdp_answer answer = XdpAnswer(req.key, 42, 0, a);
  EXPECT_EQ(answer.check, sealfs_xdp_answer_check(&answer));
  sealfs_xdp_msg reply = XdpReply(req, answer);
  EXPECT_EQ(reply.magic, SEALFS_XDP_MAGIC);
  EXPECT_EQ(reply.flags, SEALFS_XDP_FLAG_REPLY);
  EXPECT_EQ(reply.request_id, 99u);
  EXPECT_EQ(reply.generation, 42u);
  EXPECT_EQ(std::memcmp(&reply.key, &req.key, sizeof(req.key)), 0);
  EXPECT_EQ(std::memcmp(&reply.payload, &a, sizeof(a)), 0);

  // The client's side: the payloads back into the TCP protocol's answers.
  EXPECT_EQ(XdpAttr(a), attr);
  Entry back = XdpEntry(e);
  EXPECT_EQ(back.ino, 11u);
  EXPECT_EQ(back.mode, 0100600u);
  EXPECT_EQ(back.has_attr, 1);
  EXPECT_EQ(back.attr, attr);
}

TEST(XdpWireTest, AReplyMatchesOnlyItsRequest) {
  const sealfs_xdp_msg req = XdpRequest(*XdpLookupKey(5, "name"), 77);
  const sealfs_xdp_msg reply = XdpReply(req, XdpAnswer(req.key, 1, ENOENT, {}));
  Result<sealfs_xdp_msg> parsed = XdpParseReply(Bytes(reply), req);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->status, ENOENT);

  std::vector<std::function<void(sealfs_xdp_msg&)>> edits = {
      [](sealfs_xdp_msg& m) { m.magic ^= 1; },        [](sealfs_xdp_msg& m) { m.version = 2; },
      [](sealfs_xdp_msg& m) { m.flags = 0; },  // the request itself, looped back
      [](sealfs_xdp_msg& m) { m.request_id = 78; },   [](sealfs_xdp_msg& m) { m.key.ino = 6; },
      [](sealfs_xdp_msg& m) { m.key.name[0] = 'N'; },
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    sealfs_xdp_msg m = reply;
    edits[i](m);
    EXPECT_FALSE(XdpParseReply(Bytes(m), req).ok()) << "edit " << i;
  }
  std::vector<uint8_t> bytes = Bytes(reply);
  bytes.pop_back();
  EXPECT_FALSE(XdpParseReply(bytes, req).ok()) << "short";
  bytes.push_back(0);
  bytes.push_back(0);
  EXPECT_FALSE(XdpParseReply(bytes, req).ok()) << "long";
}

TEST(XdpWireTest, TheCheckCoversEveryByte) {
  sealfs_xdp_answer answer = XdpAnswer(*XdpLookupKey(1, "n"), 3, 0, XdpPayload(Attr{.ino = 4}));
  auto* bytes = reinterpret_cast<uint8_t*>(&answer);
  for (size_t i = 0; i < offsetof(sealfs_xdp_answer, check); ++i) {
    bytes[i] ^= 0x10;
    EXPECT_NE(sealfs_xdp_answer_check(&answer), answer.check) << "byte " << i;
    bytes[i] ^= 0x10;
  }
}

}  // namespace
}  // namespace sealfs
