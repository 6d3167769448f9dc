#include "xdp_program.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "bpf_pins.h"
#include "sealfs_xdp.skel.h"

namespace sealfs {
namespace {

constexpr std::array<const char*, 2> kPinNames = {"answers", "counters"};

// The id of the map pinned at `path`, or 0 if there is none.
uint32_t PinnedMapId(const std::string& path) {
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) return 0;
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  uint32_t id = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
  close(fd);
  return id;
}

// Whether the program open as `fd` uses the map `map_id`.
bool ProgramUsesMap(int fd, uint32_t map_id) {
  std::vector<uint32_t> map_ids(64);
  bpf_prog_info info{};
  info.nr_map_ids = static_cast<uint32_t>(map_ids.size());
  info.map_ids = reinterpret_cast<uintptr_t>(map_ids.data());
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) return false;
  for (uint32_t i = 0; i < info.nr_map_ids && i < map_ids.size(); ++i)
    if (map_ids[i] == map_id) return true;
  return false;
}

// An fd of the XDP program attached to the interface in `mode` if an earlier
// run of this server left it there (its answers map is still pinned in
// pin_dir), -1 if none is attached; EBUSY if another program is.
Result<int> EarlierRunsProgram(const XdpProgram::Options& opts, int ifindex, uint32_t mode) {
  uint32_t attached = 0;
  if (int err = bpf_xdp_query_id(ifindex, static_cast<int>(mode), &attached); err != 0)
    return Status::Error(-err, fmt::format("cannot query the XDP program of {}: {}", opts.interface,
                                           std::strerror(-err)));
  if (attached == 0) return -1;
  int fd = bpf_prog_get_fd_by_id(attached);
  uint32_t ours = PinnedMapId(PinPath(opts.pin_dir, "answers"));
  if (fd >= 0 && ours != 0 && ProgramUsesMap(fd, ours)) return fd;
  if (fd >= 0) close(fd);
  return Status::Error(EBUSY, fmt::format("{} already has an XDP program (id {}) that is not "
                                          "this server's",
                                          opts.interface, attached));
}

}  // namespace

Result<std::unique_ptr<XdpProgram>> XdpProgram::Attach(const Options& opts) {
  const int ifindex = static_cast<int>(if_nametoindex(opts.interface.c_str()));
  if (ifindex == 0) return ErrnoStatus("no network interface " + opts.interface);
  const uint32_t mode = opts.mode == Mode::kNative ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
  const char* mode_name = opts.mode == Mode::kNative ? "native" : "generic";
  Result<int> earlier = EarlierRunsProgram(opts, ifindex, mode);
  if (!earlier.ok()) return earlier.status();
  // Closes the earlier run's program fd on every return.
  std::unique_ptr<int, void (*)(int*)> earlier_guard(&*earlier, [](int* fd) {
    if (*fd >= 0) close(*fd);
  });

  sealfs_xdp* skel = sealfs_xdp__open();
  if (!skel) return ErrnoStatus("cannot open the sealfs_xdp BPF program");
  // Frees the skeleton on every early return.
  std::unique_ptr<sealfs_xdp, void (*)(sealfs_xdp*)> guard(skel, sealfs_xdp__destroy);
  skel->rodata->sealfs_xdp_port = opts.udp_port;
  if (int err = bpf_map__set_max_entries(skel->maps.answers, opts.max_answers); err != 0)
    return Status::Error(-err, "cannot size the XDP answers map");
  if (int err = sealfs_xdp__load(skel); err != 0) {
    return Status::Error(-err, fmt::format("cannot load the XDP program: {} (needs root, or "
                                           "CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON)",
                                           std::strerror(-err)));
  }
  if (Status s = PreparePinDir(opts.pin_dir, kPinNames); !s.ok()) return s;
  const std::array<bpf_map*, kPinNames.size()> maps = {skel->maps.answers, skel->maps.counters};
  for (size_t i = 0; i < maps.size(); ++i) {
    std::string path = PinPath(opts.pin_dir, kPinNames[i]);
    if (int err = bpf_map__pin(maps[i], path.c_str()); err != 0) {
      Unpin(opts.pin_dir, kPinNames);
      return Status::Error(-err, "cannot pin BPF map at " + path + ": " + std::strerror(-err));
    }
  }
  bpf_xdp_attach_opts attach_opts{};
  attach_opts.sz = sizeof(attach_opts);
  attach_opts.old_prog_fd = *earlier;
  const uint32_t flags = mode | (*earlier >= 0 ? XDP_FLAGS_REPLACE : XDP_FLAGS_UPDATE_IF_NOEXIST);
  if (int err =
          bpf_xdp_attach(ifindex, bpf_program__fd(skel->progs.sealfs_xdp), flags, &attach_opts);
      err != 0) {
    Unpin(opts.pin_dir, kPinNames);
    return Status::Error(-err, fmt::format("cannot attach the XDP program to {} in {} mode: {}",
                                           opts.interface, mode_name, std::strerror(-err)));
  }
  if (*earlier >= 0)
    spdlog::info("XDP fast path: replaced the program an earlier run left on {}", opts.interface);
  return std::unique_ptr<XdpProgram>(new XdpProgram(guard.release(), ifindex, mode, opts.pin_dir));
}

XdpProgram::XdpProgram(sealfs_xdp* skel, int ifindex, uint32_t flags, std::string pin_dir)
    : skel_(skel), ifindex_(ifindex), flags_(flags), pin_dir_(std::move(pin_dir)) {}

XdpProgram::~XdpProgram() {
  // Only if it is still ours: XDP_FLAGS_REPLACE checks the attached program.
  bpf_xdp_attach_opts opts{};
  opts.sz = sizeof(opts);
  opts.old_prog_fd = bpf_program__fd(skel_->progs.sealfs_xdp);
  if (int err = bpf_xdp_detach(ifindex_, flags_ | XDP_FLAGS_REPLACE, &opts); err != 0)
    spdlog::warn("XDP fast path: cannot detach the program: {}", std::strerror(-err));
  Unpin(pin_dir_, kPinNames);
  sealfs_xdp__destroy(skel_);
}

int XdpProgram::answers_fd() const { return bpf_map__fd(skel_->maps.answers); }

Result<XdpProgram::Counters> XdpProgram::ReadCounters() const {
  Result<std::vector<uint64_t>> sums =
      SumPerCpuCounters(bpf_map__fd(skel_->maps.counters), SEALFS_XDP_COUNTERS);
  if (!sums.ok()) return sums.status();
  Counters c{};
  std::copy(sums->begin(), sums->end(), c.begin());
  return c;
}

}  // namespace sealfs
