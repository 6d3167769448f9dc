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
