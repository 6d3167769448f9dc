#include "xdp_bench_targets.h"

#include <fmt/format.h>

#include <cerrno>

#include "tcp_getattr_requests.h"
#include "udp_requests.h"
#include "xdp_wire.h"

namespace sealfs::bench {

std::vector<Target> MakeTargets(const XdpBenchBed& bed, size_t inflight_counts) {
  const char* address = XdpBenchBed::server_address();
  const Ino dir1 = bed.dir_on(1), dir2 = bed.dir_on(2);
  auto getattr = [](Ino ino) {
    return UdpAsk{.key_of = [ino](uint64_t) { return XdpGetattrKey(ino); }};
  };
  auto missing_name = [dir1](uint64_t id) {
    return *XdpLookupKey(dir1, fmt::format("missing-{:016x}", id));
  };
  std::vector<Target> targets;
  auto add = [&](std::string name, std::string phase, bool attached, bool restart_first,
                 std::unique_ptr<RequestTransport> t) {
    targets.push_back({std::move(name), std::move(phase), attached, restart_first, std::move(t),
                       std::vector<Figures>(inflight_counts)});
  };
  add("xdp-hit", "getattr_udp", true, false,
      std::make_unique<UdpRequests>(address, bed.udp_port(1), getattr(dir1)));
  add("user-space", "getattr_udp", true, false,
      std::make_unique<UdpRequests>(address, bed.udp_port(2), getattr(dir2)));
  add("tcp", "getattr_tcp", true, false,
      std::make_unique<TcpGetattrRequests>(address, bed.tcp_port(2), XdpBenchBed::kEpoch, dir2));
  for (bool attached : {true, false}) {
    add(attached ? "miss-xdp" : "miss-no-xdp", "lookup_missing_udp", attached, true,
        std::make_unique<UdpRequests>(address, bed.udp_port(1),
                                      UdpAsk{.key_of = missing_name, .status = ENOENT}));
  }
  return targets;
}

}  // namespace sealfs::bench
