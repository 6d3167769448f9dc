// Administrative requests: what sealfs-loader asks of one server beyond the
// membership (today ADMIN_XDP, docs/protocol.md), and how the server knows
// the loader sent it.
//
// A request carries the time it was issued and a MAC over its fields, made
// with the cluster secret under a domain string of its own, so that no other
// signed bytes (a membership record, another kind of request) verify as one.
// A server acts on a request only if the MAC verifies with its secret, it was
// issued within kAdminMaxSkew of the server's clock, and the same request was
// not already accepted (AdminGate, userspace/server/admin_gate.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "cluster_secret.h"
#include "messages.h"

namespace sealfs {

// How far a request's issue time may be from the server's clock.
inline constexpr std::chrono::milliseconds kAdminMaxSkew = std::chrono::minutes(5);

// Now, as an issue time (Unix milliseconds).
uint64_t AdminNowMs();

// The request for `body`, signed with `secret`.
AdminXdpReq SignAdminXdp(const AdminXdpBody& body, const ClusterSecret& secret);
// Whether req.mac is the MAC `secret` gives req.body.
bool VerifyAdminXdp(const AdminXdpReq& req, const ClusterSecret& secret);

}  // namespace sealfs
