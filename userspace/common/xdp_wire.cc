#include "xdp_wire.h"

#include <cstring>

namespace sealfs {

sealfs_xdp_key XdpGetattrKey(Ino ino) {
  sealfs_xdp_key key{};
  key.ino = ino;
  key.op = SEALFS_XDP_GETATTR;
  return key;
}

Result<sealfs_xdp_key> XdpLookupKey(Ino parent, std::string_view name) {
  if (name.empty()) return Status::Error(EINVAL, "empty name");
  if (name.size() > SEALFS_XDP_NAME_MAX) return Status::Error(ENAMETOOLONG);
  sealfs_xdp_key key{};
  key.ino = parent;
  key.op = SEALFS_XDP_LOOKUP;
  key.name_len = static_cast<uint8_t>(name.size());
  std::memcpy(key.name, name.data(), name.size());
  return key;
}

sealfs_xdp_msg XdpRequest(const sealfs_xdp_key& key, uint64_t request_id) {
  sealfs_xdp_msg msg{};
  msg.magic = SEALFS_XDP_MAGIC;
  msg.version = SEALFS_XDP_VERSION;
  msg.request_id = request_id;
  msg.key = key;
  return msg;
}

namespace {
bool AllZero(const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i)
    if (b[i]) return false;
  return true;
}

bool KeyIsCanonical(const sealfs_xdp_key& key) {
  if (!AllZero(key.zero, sizeof(key.zero))) return false;
  size_t used = 0;
  if (key.op == SEALFS_XDP_LOOKUP) {
    if (key.name_len == 0 || key.name_len > SEALFS_XDP_NAME_MAX) return false;
    used = key.name_len;
  } else if (key.op != SEALFS_XDP_GETATTR || key.name_len != 0) {
    return false;
  }
  return AllZero(key.name + used, sizeof(key.name) - used);
}

sealfs_xdp_attr ToXdp(const Attr& a) {
  return {a.ino,    a.mode, a.nlink,    a.uid,      a.gid,      a.size,
          a.blocks, a.rdev, a.atime_ns, a.mtime_ns, a.ctime_ns, a.parent};
}

Attr FromXdp(const sealfs_xdp_attr& a) {
  return {.ino = a.ino,
          .mode = a.mode,
          .nlink = a.nlink,
          .uid = a.uid,
          .gid = a.gid,
          .size = a.size,
          .blocks = a.blocks,
          .rdev = a.rdev,
          .atime_ns = a.atime_ns,
          .mtime_ns = a.mtime_ns,
          .ctime_ns = a.ctime_ns,
          .parent = a.parent};
}
}  // namespace

Result<sealfs_xdp_msg> XdpParseRequest(std::span<const uint8_t> datagram) {
  sealfs_xdp_msg msg;
  if (datagram.size() != sizeof(msg)) return Status::Error(EINVAL, "wrong length");
  std::memcpy(&msg, datagram.data(), sizeof(msg));
  if (msg.magic != SEALFS_XDP_MAGIC) return Status::Error(EINVAL, "bad magic");
  if (msg.version != SEALFS_XDP_VERSION) return Status::Error(EINVAL, "unknown version");
  if (msg.flags != 0 || msg.status != 0 || msg.generation != 0)
    return Status::Error(EINVAL, "not a request");
  if (!KeyIsCanonical(msg.key)) return Status::Error(EINVAL, "bad key");
  return msg;
}

Result<sealfs_xdp_msg> XdpParseReply(std::span<const uint8_t> datagram,
                                     const sealfs_xdp_msg& request) {
  sealfs_xdp_msg msg;
  if (datagram.size() != sizeof(msg)) return Status::Error(EINVAL, "wrong length");
  std::memcpy(&msg, datagram.data(), sizeof(msg));
  if (msg.magic != request.magic || msg.version != request.version ||
      msg.flags != SEALFS_XDP_FLAG_REPLY || msg.request_id != request.request_id ||
      std::memcmp(&msg.key, &request.key, sizeof(msg.key)) != 0)
    return Status::Error(EINVAL, "not the reply to this request");
  return msg;
}

sealfs_xdp_payload XdpPayload(const Attr& attr) {
  sealfs_xdp_payload p{};
  p.attr = ToXdp(attr);
  return p;
}

sealfs_xdp_payload XdpPayload(const Entry& entry) {
  sealfs_xdp_payload p{};
  p.entry.ino = entry.ino;
  p.entry.mode = entry.mode;
  p.entry.has_attr = entry.has_attr;
  p.entry.attr = ToXdp(entry.attr);
  return p;
}

Attr XdpAttr(const sealfs_xdp_payload& payload) { return FromXdp(payload.attr); }

Entry XdpEntry(const sealfs_xdp_payload& payload) {
  return {.ino = payload.entry.ino,
          .mode = payload.entry.mode,
          .has_attr = payload.entry.has_attr,
          .attr = FromXdp(payload.entry.attr)};
}

sealfs_xdp_msg XdpReply(const sealfs_xdp_msg& request, const sealfs_xdp_answer& answer) {
  sealfs_xdp_msg reply = request;
  reply.flags = SEALFS_XDP_FLAG_REPLY;
  reply.status = answer.status;
  reply.generation = answer.generation;
  reply.payload = answer.payload;
  return reply;
}

sealfs_xdp_answer XdpAnswer(const sealfs_xdp_key& key, uint64_t generation, uint16_t status,
                            const sealfs_xdp_payload& payload) {
  sealfs_xdp_answer a{};
  a.key = key;
  a.generation = generation;
  a.status = status;
  a.payload = payload;
  a.check = sealfs_xdp_answer_check(&a);
  return a;
}

}  // namespace sealfs
