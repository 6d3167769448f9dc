// UdpFastPath: GETATTR and LOOKUP towards one server as single UDP datagrams
// (docs/protocol.md, "UDP fast path"), answered by the server's XDP program
// or by the server itself.
//
// UDP promises nothing, so an answer that does not come within the timeout
// is not an error: Ask() returns nothing and the caller asks over TCP, which
// stays the reference. A server that leaves several requests in a row
// unanswered (no udp_port listener, a firewall, a lossy link) is not asked
// over UDP again for a while, so that it costs one timeout now and then
// rather than one per request. Thread-safe; each call uses a connected socket
// of its own from a small pool, so replies never need handing between
// threads, and a late reply to an earlier request is recognised by request id
// and key and ignored.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cluster_config.h"
#include "sealfs_xdp.h"
#include "unique_fd.h"

namespace sealfs {

class UdpFastPath {
 public:
  // Asks server.address:server.udp_port; waits `timeout` for each answer.
  UdpFastPath(const ServerInfo& server, std::chrono::microseconds timeout);
  ~UdpFastPath();
  UdpFastPath(const UdpFastPath&) = delete;
  UdpFastPath& operator=(const UdpFastPath&) = delete;

  // The server's reply to a request for `key` (status 0 or a positive errno,
  // and the payload), or nothing: ask over TCP.
  std::optional<sealfs_xdp_msg> Ask(const sealfs_xdp_key& key);

 private:
  using Clock = std::chrono::steady_clock;

  UniqueFd TakeSocket();
  void ReturnSocket(UniqueFd fd);
  std::optional<sealfs_xdp_msg> Exchange(int fd, const sealfs_xdp_msg& request);
  void Answered();
  void Unanswered(const char* why);

  const std::string name_;
  const std::chrono::microseconds timeout_;
  std::vector<uint8_t> address_;  // sockaddr_in or sockaddr_in6; empty: never asked
  std::atomic<uint64_t> next_request_id_{1};

  std::mutex mu_;
  std::vector<UniqueFd> idle_sockets_;  // guarded by mu_
  int unanswered_in_a_row_ = 0;         // guarded by mu_
  std::chrono::seconds pause_{0};       // guarded by mu_: the last pause's length
  // Both of the above are zero: an answer has nothing to reset (read without mu_).
  std::atomic<bool> clean_{true};
  std::atomic<Clock::rep> paused_until_{0};
};

}  // namespace sealfs
