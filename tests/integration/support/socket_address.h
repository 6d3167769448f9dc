// The IPv4 socket address the harness's sockets bind or connect to.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <string>

namespace sealfs::it {

// address (dotted IPv4) and port; throws std::invalid_argument, naming it,
// for anything else.
sockaddr_in Ipv4SocketAddress(const std::string& address, uint16_t port);

}  // namespace sealfs::it
