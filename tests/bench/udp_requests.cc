#include "udp_requests.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "closed_loop.h"
#include "socket_address.h"
#include "xdp_wire.h"

namespace sealfs::bench {
namespace {

[[noreturn]] void Fail(const char* call) {
  throw std::runtime_error(fmt::format("{}: {}", call, std::strerror(errno)));
}

}  // namespace

UdpRequests::Batch::Batch(size_t size) : msgs(size), iov(size), hdr(size) {
  for (size_t i = 0; i < size; ++i) {
    iov[i] = {&msgs[i], sizeof(sealfs_xdp_msg)};
    hdr[i].msg_hdr.msg_iov = &iov[i];
    hdr[i].msg_hdr.msg_iovlen = 1;
  }
}

UdpRequests::UdpRequests(const std::string& address, uint16_t port, UdpAsk ask)
    : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)),
      ask_(std::move(ask)),
      out_(kMaxInflight),
      in_(kMaxInflight) {
  if (!fd_) Fail("socket");
  const sockaddr_in server = it::Ipv4SocketAddress(address, port);
  // Connected: only the server's replies (whoever answers: the program swaps
  // the addresses and ports of the request) are received.
  if (::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&server), sizeof(server)) != 0)
    Fail("connect");
}

void UdpRequests::Send(std::span<const uint64_t> ids) {
  if (ids.size() > out_.msgs.size()) throw std::invalid_argument("too many requests at once");
  for (size_t i = 0; i < ids.size(); ++i) out_.msgs[i] = XdpRequest(ask_.key_of(ids[i]), ids[i]);
  for (size_t done = 0; done < ids.size();) {
    const int n =
        ::sendmmsg(fd_.get(), out_.hdr.data() + done, static_cast<unsigned>(ids.size() - done), 0);
    if (n < 0 && errno != EAGAIN && errno != EINTR) Fail("sendmmsg");
    if (n < 0) {
      pollfd p{fd_.get(), POLLOUT, 0};
      ::poll(&p, 1, 100);
      continue;
    }
    done += static_cast<size_t>(n);
  }
}

void UdpRequests::Receive(std::vector<uint64_t>* ids, std::chrono::milliseconds timeout) {
  pollfd p{fd_.get(), POLLIN, 0};
  const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (ready < 0 && errno != EINTR) Fail("poll");
  if (ready <= 0) return;
  const int n =
      ::recvmmsg(fd_.get(), in_.hdr.data(), static_cast<unsigned>(in_.hdr.size()), 0, nullptr);
  if (n < 0 && errno != EAGAIN && errno != EINTR) Fail("recvmmsg");
  for (int i = 0; i < n; ++i) {
    if (in_.hdr[i].msg_len != sizeof(sealfs_xdp_msg))
      throw std::runtime_error(fmt::format("a reply of {} bytes", in_.hdr[i].msg_len));
    Check(in_.msgs[i]);
    ids->push_back(in_.msgs[i].request_id);
  }
}

void UdpRequests::Check(const sealfs_xdp_msg& reply) const {
  const sealfs_xdp_key key = ask_.key_of(reply.request_id);
  const auto* bytes = reinterpret_cast<const uint8_t*>(&reply);
  if (!XdpParseReply(std::span(bytes, sizeof(reply)), XdpRequest(key, reply.request_id)).ok())
    throw std::runtime_error(fmt::format("request {:#x}: not its reply", reply.request_id));
  if (reply.status != ask_.status)
    throw std::runtime_error(fmt::format("request {:#x}: status {}, expected {}", reply.request_id,
                                         reply.status, ask_.status));
  if (reply.status == 0 && key.op == SEALFS_XDP_GETATTR && reply.payload.attr.ino != key.ino)
    throw std::runtime_error(fmt::format("request {:#x}: the attributes of {:#x}, not {:#x}",
                                         reply.request_id, reply.payload.attr.ino, key.ino));
}

}  // namespace sealfs::bench
