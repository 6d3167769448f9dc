// UDP fast path requests (docs/protocol.md, "UDP fast path") for the closed
// loop: one connected UDP socket, requests sent with sendmmsg and replies
// read with recvmmsg, each reply checked against its request.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <string>

#include "closed_loop.h"
#include "sealfs_xdp.h"
#include "unique_fd.h"

namespace sealfs::bench {

// What the requests ask and what every answer must say.
struct UdpAsk {
  std::function<sealfs_xdp_key(uint64_t request_id)> key_of;
  uint16_t status = 0;  // 0, or the errno every reply must carry
};

class UdpRequests : public RequestTransport {
 public:
  // Opens the socket in the calling thread's network namespace.
  UdpRequests(const std::string& address, uint16_t port, UdpAsk ask);

  void Send(std::span<const uint64_t> ids) override;
  void Receive(std::vector<uint64_t>* ids, std::chrono::milliseconds timeout) override;

 private:
  // Throws unless `reply` is the answer to the request it names.
  void Check(const sealfs_xdp_msg& reply) const;

  // Messages to send or received, and the vectors sendmmsg and recvmmsg use
  // (one datagram each, pointing into the messages).
  struct Batch {
    explicit Batch(size_t size);
    std::vector<sealfs_xdp_msg> msgs;
    std::vector<iovec> iov;
    std::vector<mmsghdr> hdr;
  };

  UniqueFd fd_;
  UdpAsk ask_;
  Batch out_, in_;
};

}  // namespace sealfs::bench
