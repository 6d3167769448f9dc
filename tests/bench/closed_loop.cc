#include "closed_loop.h"

#include <fmt/format.h>

#include <stdexcept>

namespace sealfs::bench {
namespace {

// A request id is (sequence << 16 | slot): the slot finds the request's send
// time, the sequence, unique across calls, tells a late reply to an earlier
// request in the same slot from the current one.
constexpr int kSlotBits = 16;
static_assert(kMaxInflight <= (1 << kSlotBits));
uint64_t next_sequence = 1;

struct Slot {
  uint64_t id = 0;  // 0: free
  Clock::time_point sent;
};

}  // namespace

LoadResult RunClosedLoop(RequestTransport& transport, int inflight, uint64_t total,
                         std::chrono::milliseconds timeout) {
  if (inflight < 1 || inflight > kMaxInflight)
    throw std::invalid_argument(fmt::format("{} requests in flight", inflight));
  LoadResult result;
  result.latencies.Reserve(total);
  std::vector<Slot> slots(static_cast<size_t>(inflight));
  std::vector<uint64_t> to_send, answered;
  uint64_t sent = 0;
  // Fills the free slots with new requests while any are left to send.
  auto refill = [&](std::span<const size_t> free_slots) {
    to_send.clear();
    const Clock::time_point now = Clock::now();
    for (size_t s : free_slots) {
      if (sent == total) break;
      ++sent;
      slots[s] = {.id = next_sequence++ << kSlotBits | s, .sent = now};
      to_send.push_back(slots[s].id);
    }
    if (!to_send.empty()) transport.Send(to_send);
  };
  std::vector<size_t> freed;
  for (size_t s = 0; s < slots.size(); ++s) freed.push_back(s);
  const Clock::time_point start = Clock::now();
  refill(freed);
  while (result.requests < total) {
    answered.clear();
    transport.Receive(&answered, timeout);
    if (answered.empty())
      throw std::runtime_error(fmt::format("no reply within {} ms ({} of {} answered)",
                                           timeout.count(), result.requests, total));
    const Clock::time_point now = Clock::now();
    freed.clear();
    for (uint64_t id : answered) {
      const size_t s = id & ((1u << kSlotBits) - 1);
      if (s >= slots.size() || slots[s].id != id) continue;  // late or duplicate
      result.latencies.Add(now - slots[s].sent);
      slots[s].id = 0;
      ++result.requests;
      freed.push_back(s);
    }
    refill(freed);
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace sealfs::bench
