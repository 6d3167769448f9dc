#include "tcp.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "socket_address.h"

namespace sealfs::it {

std::vector<uint16_t> PickFreeLoopbackPorts(int count) {
  // Keep every probe socket bound until all ports are chosen, so they are distinct.
  std::vector<UniqueFd> probes;
  std::vector<uint16_t> ports;
  for (int i = 0; i < count; ++i) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr = Ipv4SocketAddress("127.0.0.1", 0);
    socklen_t len = sizeof addr;
    if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error(std::string("picking a free port: ") + std::strerror(errno));
    }
    ports.push_back(ntohs(addr.sin_port));
    probes.push_back(std::move(fd));
  }
  return ports;
}

UniqueFd ConnectTcp(const std::string& address, uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return {};
  sockaddr_in addr = Ipv4SocketAddress(address, port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return {};
  return fd;
}

}  // namespace sealfs::it
