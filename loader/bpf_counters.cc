#include "bpf_counters.h"

#include <bpf/bpf.h>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <array>
#include <span>

#include "bpf_pinned_maps.h"
#include "bpf_pins.h"
#include "sealfs_cache.h"
#include "sealfs_xdp.h"
#include "unique_fd.h"

namespace sealfs {
namespace {

// Names of enum sealfs_xdp_counter (bpf/sealfs_xdp.h), in order.
constexpr std::array<const char*, SEALFS_XDP_COUNTERS> kXdpNames = {
    "received",       "hit",           "miss",         "key_mismatch", "pass_not_ipv4",
    "pass_ip_header", "pass_fragment", "pass_not_udp", "pass_port",    "pass_length",
    "pass_magic",     "pass_version",  "pass_op",      "pass_header",  "pass_ip_checksum",
    "pass_torn"};
// Names of enum sealfs_cache_counter (bpf/sealfs_cache.h), in order.
constexpr std::array<const char*, SEALFS_CACHE_COUNTERS> kCacheNames = {
    "lookup_hit",  "lookup_miss",  "lookup_forward",
    "getattr_hit", "getattr_miss", "getattr_forward"};

struct Kind {
  const char* what;
  std::span<const char* const> names;
};

// Which program a counters map belongs to, by the maps pinned beside it.
Kind KindOf(const PinnedMap& counters, const std::vector<PinnedMap>& maps) {
  auto beside = [&](const char* name) {
    return std::any_of(maps.begin(), maps.end(),
                       [&](const PinnedMap& m) { return m.dir == counters.dir && m.name == name; });
  };
  if (beside("answers") && counters.max_entries == kXdpNames.size())
    return {"server XDP fast path", kXdpNames};
  if (beside("attrs") && counters.max_entries == kCacheNames.size())
    return {"client --bpf cache", kCacheNames};
  return {"unknown program", {}};
}

}  // namespace

int RunBpfCounters(const BpfCountersOptions& options, std::ostream& out, std::ostream& err) {
  Result<std::vector<PinnedMap>> maps = FindPinnedMaps(options.pin_root);
  if (!maps.ok()) {
    fmt::print(err, "sealfs-loader bpf counters: {}\n", maps.status().message());
    return 1;
  }
  int shown = 0, failed = 0;
  for (const PinnedMap& m : *maps) {
    if (m.name != "counters" || m.type != BPF_MAP_TYPE_PERCPU_ARRAY || m.value_size != 8) continue;
    UniqueFd fd(bpf_obj_get(m.path.c_str()));
    Result<std::vector<uint64_t>> sums = fd.get() < 0
                                             ? Result<std::vector<uint64_t>>(Status::Error(errno))
                                             : SumPerCpuCounters(fd.get(), m.max_entries);
    if (!sums.ok()) {
      fmt::print(err, "sealfs-loader bpf counters: cannot read {}: {}\n", m.path,
                 sums.status().ToString());
      ++failed;
      continue;
    }
    const Kind kind = KindOf(m, *maps);
    fmt::print(out, "{} ({}), summed over the CPUs:\n", m.path, kind.what);
    for (size_t i = 0; i < sums->size(); ++i) {
      const std::string name = i < kind.names.size() ? kind.names[i] : fmt::format("counter {}", i);
      fmt::print(out, "  {:<18} {}\n", name, (*sums)[i]);
    }
    ++shown;
  }
  if (shown == 0 && failed == 0)
    fmt::print(out, "no sealfs counters are pinned under {}\n", options.pin_root);
  return failed ? 1 : 0;
}

}  // namespace sealfs
