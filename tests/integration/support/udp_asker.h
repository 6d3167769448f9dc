// A client of the UDP fast path (docs/protocol.md, "UDP fast path") for the
// tests: sends datagrams to one server and reads what comes back.
#pragma once

#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sealfs_xdp.h"
#include "unique_fd.h"

namespace sealfs::it {

class UdpAsker {
 public:
  // Asks address:port from `socket` (a UDP socket; empty: one is opened in
  // the calling thread's network namespace).
  UdpAsker(const std::string& address, uint16_t port, UniqueFd socket = {});

  // Sends `datagram` and returns the first datagram that comes back within
  // `timeout`, if any.
  std::optional<std::vector<uint8_t>> Exchange(std::span<const uint8_t> datagram,
                                               std::chrono::milliseconds timeout);

  // The reply to a request for `key`, checked (with gtest expectations) for
  // shape: the whole message, flagged as a reply, echoing request id and key.
  // Throws if none comes within 2 s.
  sealfs_xdp_msg Ask(const sealfs_xdp_key& key);

 private:
  UniqueFd fd_;
  sockaddr_in server_{};
  uint64_t request_id_ = 0;
};

}  // namespace sealfs::it
