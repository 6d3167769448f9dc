#include "udp_relay.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "sealfs_xdp.h"
#include "socket_address.h"

namespace sealfs::it {
namespace {

[[noreturn]] void Fail(const std::string& what) {
  throw std::runtime_error("UdpRelay: " + what + ": " + std::strerror(errno));
}

}  // namespace

UdpRelay::UdpRelay(const std::string& server_address, uint16_t server_port, Mode mode)
    : mode_(mode),
      front_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)),
      back_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)),
      stop_(::eventfd(0, EFD_CLOEXEC)) {
  if (!front_ || !back_ || !stop_) Fail("socket");
  sockaddr_in local = Ipv4SocketAddress(server_address, 0);
  if (::bind(front_.get(), reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) Fail("bind");
  socklen_t len = sizeof(local);
  if (::getsockname(front_.get(), reinterpret_cast<sockaddr*>(&local), &len) != 0)
    Fail("getsockname");
  port_ = ntohs(local.sin_port);
  sockaddr_in server = Ipv4SocketAddress(server_address, server_port);
  if (::connect(back_.get(), reinterpret_cast<sockaddr*>(&server), sizeof(server)) != 0)
    Fail("connect");
  thread_ = std::thread([this] { Run(); });
}

UdpRelay::~UdpRelay() {
  uint64_t one = 1;
  if (::write(stop_.get(), &one, sizeof(one)) != sizeof(one)) std::abort();
  thread_.join();
}

void UdpRelay::Run() {
  uint8_t buf[2048];
  for (;;) {
    pollfd p[3] = {{front_.get(), POLLIN, 0}, {back_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    if (::poll(p, 3, -1) < 0 && errno != EINTR) return;
    if (p[2].revents) return;
    if (p[0].revents) {
      sockaddr_in client{};
      socklen_t len = sizeof(client);
      ssize_t n = ::recvfrom(front_.get(), buf, sizeof(buf), MSG_DONTWAIT,
                             reinterpret_cast<sockaddr*>(&client), &len);
      if (n > 0) FromClient(client, buf, static_cast<size_t>(n));
    }
    if (p[1].revents) {
      ssize_t n = ::recv(back_.get(), buf, sizeof(buf), MSG_DONTWAIT);
      if (n > 0) FromServer(buf, static_cast<size_t>(n));
    }
  }
}

void UdpRelay::FromClient(const sockaddr_in& client, const uint8_t* data, size_t n) {
  ++requests_;
  if (mode_ == Mode::kDrop || n != sizeof(sealfs_xdp_msg)) return;
  sealfs_xdp_msg req;
  std::memcpy(&req, data, n);
  asked_by_[req.request_id] = client;
  (void)::send(back_.get(), data, n, 0);
}

void UdpRelay::FromServer(const uint8_t* data, size_t n) {
  if (n != sizeof(sealfs_xdp_msg)) return;
  sealfs_xdp_msg reply;
  std::memcpy(&reply, data, n);
  auto it = asked_by_.find(reply.request_id);
  if (it == asked_by_.end()) return;
  const sockaddr_in client = it->second;
  asked_by_.erase(it);
  if (mode_ == Mode::kDecoysFirst) {
    sealfs_xdp_msg other_request = reply;
    other_request.request_id += 1000000;
    other_request.payload.attr.size += 1;
    SendToClient(client, &other_request, sizeof(other_request));
    sealfs_xdp_msg other_key = reply;
    other_key.key.ino ^= 1;
    other_key.payload.attr.mode ^= 0777;
    other_key.payload.entry.ino ^= 1;
    SendToClient(client, &other_key, sizeof(other_key));
    sealfs_xdp_msg short_copy = reply;
    short_copy.payload.attr.size += 2;
    SendToClient(client, &short_copy, sizeof(short_copy) - 1);
  }
  ++answers_;
  SendToClient(client, &reply, sizeof(reply));
}

void UdpRelay::SendToClient(const sockaddr_in& client, const void* data, size_t n) {
  (void)::sendto(front_.get(), data, n, 0, reinterpret_cast<const sockaddr*>(&client),
                 sizeof(client));
}

}  // namespace sealfs::it
