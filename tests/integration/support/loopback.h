// TCP on 127.0.0.1 only: picking free ports and connecting to a server.
#pragma once

#include <cstdint>
#include <vector>

#include "unique_fd.h"

namespace sealfs::it {

// Returns count distinct ports that were free on 127.0.0.1 a moment ago.
std::vector<uint16_t> PickFreeLoopbackPorts(int count);

// A connected TCP socket to 127.0.0.1:port, or an empty UniqueFd if nothing accepts there.
UniqueFd ConnectLoopback(uint16_t port);

}  // namespace sealfs::it
