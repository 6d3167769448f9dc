// TCP for the harness: picking free ports on 127.0.0.1 and connecting to a server.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "unique_fd.h"

namespace sealfs::it {

// Returns count distinct ports that were free on 127.0.0.1 a moment ago.
std::vector<uint16_t> PickFreeLoopbackPorts(int count);

// A TCP socket connected to address:port (IPv4, dotted) from the calling thread's network
// namespace, or an empty UniqueFd if nothing accepts there.
UniqueFd ConnectTcp(const std::string& address, uint16_t port);

}  // namespace sealfs::it
