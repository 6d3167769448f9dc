// The UDP fast path's datagrams in C++ terms (docs/protocol.md, "UDP fast
// path"): the keys of GETATTR and LOOKUP requests, the requests themselves,
// and the answers the server stores for the XDP program. The layout is
// bpf/sealfs_xdp.h, shared with the program, so every struct here is the
// exact bytes of the wire or of the map.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "ino.h"
#include "messages.h"
#include "sealfs_xdp.h"
#include "status.h"

namespace sealfs {

// The key of GETATTR(ino).
sealfs_xdp_key XdpGetattrKey(Ino ino);
// The key of LOOKUP(parent, name): EINVAL for an empty name, ENAMETOOLONG
// for one longer than SEALFS_XDP_NAME_MAX (such names are asked over TCP).
Result<sealfs_xdp_key> XdpLookupKey(Ino parent, std::string_view name);

// A request datagram for `key`: padded to the reply's size with zeros.
sealfs_xdp_msg XdpRequest(const sealfs_xdp_key& key, uint64_t request_id);

// The request in `datagram` (a whole UDP payload) if it is one a server
// answers: exactly the size of a message, the right magic and version, flags,
// status and generation zero, and a key of a known op with every unused byte
// zero (bpf/sealfs_xdp.h). EINVAL otherwise; the payload is not looked at.
Result<sealfs_xdp_msg> XdpParseRequest(std::span<const uint8_t> datagram);

// The reply to `request` in `datagram` (a whole UDP payload) if it is one:
// exactly the size of a message, flagged as a reply, echoing the request's
// magic, version, request id and key. EINVAL otherwise (a datagram that
// answers something else, or nothing: the caller ignores it).
Result<sealfs_xdp_msg> XdpParseReply(std::span<const uint8_t> datagram,
                                     const sealfs_xdp_msg& request);

// The TCP protocol's GETATTR and LOOKUP answers as a payload, and back.
sealfs_xdp_payload XdpPayload(const Attr& attr);
sealfs_xdp_payload XdpPayload(const Entry& entry);
Attr XdpAttr(const sealfs_xdp_payload& payload);
Entry XdpEntry(const sealfs_xdp_payload& payload);

// The reply to `request` from `answer` (whose key is the request's).
sealfs_xdp_msg XdpReply(const sealfs_xdp_msg& request, const sealfs_xdp_answer& answer);

// The value of the answers map for `key`, with its check computed. The
// payload is used as given (zero it where the reply carries nothing).
sealfs_xdp_answer XdpAnswer(const sealfs_xdp_key& key, uint64_t generation, uint16_t status,
                            const sealfs_xdp_payload& payload);

}  // namespace sealfs
