// Administrative requests: what sealfs-loader asks of one server beyond the
// membership (ADMIN_XDP, ADMIN_MIGRATION, docs/protocol.md), and how the
// server knows the loader sent it.
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
#include <string>
#include <string_view>
#include <vector>

#include "cluster_secret.h"
#include "messages.h"

namespace sealfs {

// How far a request's issue time may be from the server's clock.
inline constexpr std::chrono::milliseconds kAdminMaxSkew = std::chrono::minutes(5);

// Now, as an issue time (Unix milliseconds).
uint64_t AdminNowMs();

// The bytes a request's MAC covers.
template <class Body>
std::string AdminBodyBytes(const Body& body) {
  Body copy = body;
  std::vector<uint8_t> bytes = Encode(copy);
  return std::string(bytes.begin(), bytes.end());
}

// The request for `body`, signed with `secret` under the body's domain.
template <class Body>
SignedAdmin<Body> SignAdmin(const Body& body, const ClusterSecret& secret) {
  ClusterSecret::Mac mac = secret.Sign(Body::kDomain, AdminBodyBytes(body));
  return {.body = body, .mac = std::string(mac.begin(), mac.end())};
}

// Whether req.mac is the MAC `secret` gives req.body.
template <class Body>
bool VerifyAdmin(const SignedAdmin<Body>& req, const ClusterSecret& secret) {
  return secret.Verify(Body::kDomain, AdminBodyBytes(req.body), req.mac);
}

}  // namespace sealfs
