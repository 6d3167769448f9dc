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

// The id of the map pinned at `path`, or 0 if there is none (or it cannot be
// opened: logged).
uint32_t PinnedMapId(const std::string& path) {
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0 && errno != ENOENT)
    spdlog::warn("XDP fast path: cannot open {}, left by an earlier run: {}", path,
                 std::strerror(errno));
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

uint32_t ModeFlags(XdpProgram::Mode mode) {
  return mode == XdpProgram::Mode::kNative ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
}

// Detaches the program open as `prog_fd` from `ifindex` in `mode`, only if
// it is still the one attached there (XDP_FLAGS_REPLACE); 0 or -errno.
int DetachProgram(int ifindex, uint32_t mode, int prog_fd) {
  bpf_xdp_attach_opts opts{};
  opts.sz = sizeof(opts);
  opts.old_prog_fd = prog_fd;
  return bpf_xdp_detach(ifindex, mode | XDP_FLAGS_REPLACE, &opts);
}

}  // namespace

std::string XdpProgram::PinDir(ServerId id, const std::string& root) {
  return fmt::format("{}/server-{}", root, id);
}

void XdpProgram::RemoveEarlierRun(const std::string& pin_dir) {
  const uint32_t answers = PinnedMapId(PinPath(pin_dir, "answers"));
  if (answers == 0) return;
  if (struct if_nameindex* names = if_nameindex()) {
    for (struct if_nameindex* n = names; n->if_index != 0; ++n) {
      bpf_xdp_query_opts q{};
      q.sz = sizeof(q);
      if (bpf_xdp_query(static_cast<int>(n->if_index), 0, &q) != 0) continue;
      for (auto [mode, id] : {std::pair{XDP_FLAGS_DRV_MODE, q.drv_prog_id},
                              std::pair{XDP_FLAGS_SKB_MODE, q.skb_prog_id}}) {
        int fd = id ? bpf_prog_get_fd_by_id(id) : -1;
        if (fd < 0) continue;
        if (ProgramUsesMap(fd, answers) &&
            DetachProgram(static_cast<int>(n->if_index), mode, fd) == 0)
          spdlog::warn("XDP fast path: detached the program an earlier run left on {}", n->if_name);
        close(fd);
      }
    }
    if_freenameindex(names);
  }
  Unpin(pin_dir, kPinNames);
}

Result<std::unique_ptr<XdpProgram>> XdpProgram::Attach(const Options& opts) {
  const int ifindex = static_cast<int>(if_nametoindex(opts.interface.c_str()));
  if (ifindex == 0) return ErrnoStatus("no network interface " + opts.interface);
  const uint32_t mode = ModeFlags(opts.mode);
  const char* mode_name = ModeName(opts.mode);
  uint32_t attached = 0;
  if (int err = bpf_xdp_query_id(ifindex, static_cast<int>(mode), &attached); err != 0) {
    return Status::Error(-err, fmt::format("cannot query the XDP program of {}: {}", opts.interface,
                                           std::strerror(-err)));
  }
  if (attached != 0) {
    return Status::Error(
        EBUSY, fmt::format("{} already has an XDP program (id {})", opts.interface, attached));
  }

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
  // UPDATE_IF_NOEXIST: never replace a program attached since the query.
  if (int err = bpf_xdp_attach(ifindex, bpf_program__fd(skel->progs.sealfs_xdp),
                               mode | XDP_FLAGS_UPDATE_IF_NOEXIST, nullptr);
      err != 0) {
    Unpin(opts.pin_dir, kPinNames);
    return Status::Error(-err, fmt::format("cannot attach the XDP program to {} in {} mode: {}",
                                           opts.interface, mode_name, std::strerror(-err)));
  }
  return std::unique_ptr<XdpProgram>(new XdpProgram(guard.release(), ifindex, opts));
}

const char* XdpProgram::ModeName(Mode mode) { return mode == Mode::kNative ? "native" : "generic"; }

XdpProgram::XdpProgram(sealfs_xdp* skel, int ifindex, const Options& opts)
    : skel_(skel),
      ifindex_(ifindex),
      interface_(opts.interface),
      mode_(opts.mode),
      pin_dir_(opts.pin_dir) {}

Status XdpProgram::Detach() {
  if (!attached_) return Status::Ok();
  const int prog_fd = bpf_program__fd(skel_->progs.sealfs_xdp);
  int err = DetachProgram(ifindex_, ModeFlags(mode_), prog_fd);
  if (err != 0) {
    // Refused because another program (or none) is attached there now, or
    // the interface is gone: then this one is off it all the same.
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    uint32_t now_attached = 0;
    if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) == 0 &&
        bpf_xdp_query_id(ifindex_, static_cast<int>(ModeFlags(mode_)), &now_attached) == 0 &&
        now_attached == info.id) {
      return Status::Error(-err, fmt::format("cannot detach the program from {}: {}", interface_,
                                             std::strerror(-err)));
    }
    spdlog::warn("XDP fast path: the program was no longer attached to {} ({})", interface_,
                 std::strerror(-err));
  }
  attached_ = false;
  return Status::Ok();
}

XdpProgram::~XdpProgram() {
  if (Status s = Detach(); !s.ok()) spdlog::warn("XDP fast path: {}", s.message());
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
