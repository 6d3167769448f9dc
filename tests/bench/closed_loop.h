// A closed-loop load generator on one thread: keeps a fixed number of
// requests in flight over one connection or socket, sending a new request as
// each reply comes in, and records every request's round trip.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include "latency.h"

namespace sealfs::bench {

// How requests travel (UDP datagrams, TCP frames, ...). A request is named by
// the id it carries and its reply echoes.
class RequestTransport {
 public:
  virtual ~RequestTransport() = default;
  // Sends one new request for each id.
  virtual void Send(std::span<const uint64_t> ids) = 0;
  // Waits up to `timeout` for replies and appends the ids of those that came
  // (at least one unless the time ran out) to `*ids`. Throws on a reply that
  // is not the right answer to the request it names.
  virtual void Receive(std::vector<uint64_t>* ids, std::chrono::milliseconds timeout) = 0;
};

struct LoadResult {
  uint64_t requests = 0;
  double seconds = 0;
  Latencies latencies;
};

// Sends `total` requests through `transport`, `inflight` (1..kMaxInflight) at
// a time, and returns when every one is answered. Throws if none of the
// outstanding requests is answered within `timeout` (a lost datagram).
inline constexpr int kMaxInflight = 1024;
LoadResult RunClosedLoop(RequestTransport& transport, int inflight, uint64_t total,
                         std::chrono::milliseconds timeout = std::chrono::seconds(2));

}  // namespace sealfs::bench
