#include "udp_asker.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "socket_address.h"
#include "xdp_wire.h"

namespace sealfs::it {

using namespace std::chrono_literals;

UdpAsker::UdpAsker(const std::string& address, uint16_t port, UniqueFd socket)
    : fd_(std::move(socket)) {
  if (!fd_) fd_ = UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd_) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  server_ = Ipv4SocketAddress(address, port);
}

std::optional<std::vector<uint8_t>> UdpAsker::Exchange(std::span<const uint8_t> datagram,
                                                       std::chrono::milliseconds timeout) {
  if (::sendto(fd_.get(), datagram.data(), datagram.size(), 0,
               reinterpret_cast<const sockaddr*>(&server_), sizeof(server_)) < 0)
    throw std::runtime_error(std::string("sendto: ") + std::strerror(errno));
  pollfd p{fd_.get(), POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
  std::vector<uint8_t> reply(4096);
  ssize_t n = ::recv(fd_.get(), reply.data(), reply.size(), 0);
  if (n < 0) throw std::runtime_error(std::string("recv: ") + std::strerror(errno));
  reply.resize(static_cast<size_t>(n));
  return reply;
}

sealfs_xdp_msg UdpAsker::Ask(const sealfs_xdp_key& key) {
  sealfs_xdp_msg req = XdpRequest(key, ++request_id_);
  const auto* p = reinterpret_cast<const uint8_t*>(&req);
  std::optional<std::vector<uint8_t>> got = Exchange(std::span(p, sizeof(req)), 2s);
  if (!got) throw std::runtime_error("no UDP reply within 2 s");
  sealfs_xdp_msg reply{};
  EXPECT_EQ(got->size(), sizeof(reply));
  std::memcpy(&reply, got->data(), std::min(got->size(), sizeof(reply)));
  EXPECT_EQ(reply.magic, SEALFS_XDP_MAGIC);
  EXPECT_EQ(reply.version, SEALFS_XDP_VERSION);
  EXPECT_EQ(reply.flags, SEALFS_XDP_FLAG_REPLY);
  EXPECT_EQ(reply.request_id, request_id_);
  EXPECT_EQ(std::memcmp(&reply.key, &key, sizeof(key)), 0);
  return reply;
}

}  // namespace sealfs::it
