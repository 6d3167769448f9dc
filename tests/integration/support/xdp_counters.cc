#include "xdp_counters.h"

#include <bpf/bpf.h>

#include <stdexcept>

#include "bpf_pins.h"
#include "sealfs_xdp.h"
#include "unique_fd.h"

namespace sealfs::it {

std::vector<uint64_t> ReadXdpCounters(const std::filesystem::path& pin_dir) {
  const std::filesystem::path pin = pin_dir / "counters";
  UniqueFd fd(bpf_obj_get(pin.c_str()));
  if (!fd) throw std::runtime_error("no pinned XDP counters at " + pin.string());
  Result<std::vector<uint64_t>> c = SumPerCpuCounters(fd.get(), SEALFS_XDP_COUNTERS);
  if (!c.ok()) throw std::runtime_error(c.status().ToString());
  return *c;
}

}  // namespace sealfs::it
