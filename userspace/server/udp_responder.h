// UdpResponder: answers the UDP fast path's GETATTR and LOOKUP datagrams
// (docs/protocol.md, "UDP fast path") from the metadata store: every request
// the XDP program does not answer, or all of them when no program runs.
//
// Each answer carries the generation XdpAnswers handed out before it was
// read, and is offered to XdpAnswers::Fill() before the reply is sent, so the
// next request for it can be answered by the program. A datagram that is not
// an exactly valid request is dropped (counted at debug level): the sender
// falls back to TCP. Runs on the io_context's threads, one datagram at a time.
#pragma once

#include <array>
#include <asio.hpp>
#include <cstdint>
#include <string>

#include "namespace_service.h"
#include "sealfs_xdp.h"
#include "status.h"
#include "xdp_answers.h"

namespace sealfs {

class UdpResponder {
 public:
  UdpResponder(asio::io_context& io, const NamespaceService* ns, XdpAnswers* answers);
  // Binds `port` on every address of `address`'s family.
  Status Listen(const std::string& address, uint16_t port);
  // Closes the socket; no datagram is answered once it returns.
  void Stop();

 private:
  void Receive();
  void Answer(size_t length);
  sealfs_xdp_answer Read(const sealfs_xdp_key& key);

  const NamespaceService* ns_;
  XdpAnswers* answers_;
  asio::ip::udp::socket socket_;  // touched on its strand only
  asio::ip::udp::endpoint sender_;
  // One byte more than a message: a longer datagram must not pass as one.
  std::array<uint8_t, sizeof(sealfs_xdp_msg) + 1> buf_;
  uint64_t dropped_ = 0;
};

}  // namespace sealfs
