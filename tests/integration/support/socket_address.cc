#include "socket_address.h"

#include <arpa/inet.h>

#include <stdexcept>

namespace sealfs::it {

sockaddr_in Ipv4SocketAddress(const std::string& address, uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1)
    throw std::invalid_argument("not an IPv4 address: " + address);
  return addr;
}

}  // namespace sealfs::it
