// A UDP relay between clients and one server's UDP port, for tests of the
// client's side of the fast path: a mount given the relay's port instead of
// the server's asks through it, and the relay counts the requests and, as
// told, forwards them, drops them, or sends decoys ahead of each answer:
// datagrams a client must not take for the answer (another request id,
// another key with a changed payload, a short copy).
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "unique_fd.h"

namespace sealfs::it {

class UdpRelay {
 public:
  enum class Mode { kForward, kDrop, kDecoysFirst };

  // Listens on server_address (IPv4; an ephemeral port), where a mount
  // given the relay's port asks, and forwards to server_address:server_port.
  // Make it in the server's network namespace (LocalCluster::server_netns).
  UdpRelay(const std::string& server_address, uint16_t server_port, Mode mode);
  ~UdpRelay();
  UdpRelay(const UdpRelay&) = delete;
  UdpRelay& operator=(const UdpRelay&) = delete;

  uint16_t port() const { return port_; }
  uint64_t requests() const { return requests_; }
  uint64_t answers() const { return answers_; }

 private:
  void Run();
  void FromClient(const sockaddr_in& client, const uint8_t* data, size_t n);
  void FromServer(const uint8_t* data, size_t n);
  void SendToClient(const sockaddr_in& client, const void* data, size_t n);

  const Mode mode_;
  UniqueFd front_;  // the clients' side
  UniqueFd back_;   // connected to the server
  UniqueFd stop_;   // eventfd: written by the destructor
  uint16_t port_ = 0;
  std::unordered_map<uint64_t, sockaddr_in> asked_by_;  // request id -> client; Run() only
  std::atomic<uint64_t> requests_{0}, answers_{0};
  std::thread thread_;
};

}  // namespace sealfs::it
