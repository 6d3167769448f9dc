#include "bpf_inventory.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <linux/if_link.h>
#include <net/if.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "bpf_pinned_maps.h"
#include "unique_fd.h"

namespace sealfs {
namespace {

struct LoadedProgram {
  uint32_t id = 0;
  uint32_t type = 0;  // enum bpf_prog_type
  std::string name;   // the kernel's (at most 15 characters)
  std::string what;   // which sealfs program it is
  std::vector<uint32_t> map_ids;
  // XDP: "eth0 (native)" for each interface of this network namespace it is
  // attached to.
  std::vector<std::string> attached_to;
};

struct KnownProgram {
  const char* name;
  bpf_prog_type type;
  const char* what;
};

// The programs of bpf/*.bpf.c, by the names the kernel gives them.
constexpr KnownProgram kKnownPrograms[] = {
    {"sealfs_xdp", BPF_PROG_TYPE_XDP, "server XDP fast path (bpf/sealfs_xdp.bpf.c)"},
    {"sealfs_lookup", BPF_PROG_TYPE_STRUCT_OPS, "client --bpf cache (bpf/sealfs_cache.bpf.c)"},
    {"sealfs_getattr", BPF_PROG_TYPE_STRUCT_OPS, "client --bpf cache (bpf/sealfs_cache.bpf.c)"},
};

const KnownProgram* Known(const bpf_prog_info& info) {
  for (const KnownProgram& k : kKnownPrograms) {
    if (info.type == static_cast<uint32_t>(k.type) && std::strcmp(info.name, k.name) == 0)
      return &k;
  }
  return nullptr;
}

// Program id -> "ifname (mode)" for every XDP program attached to an
// interface of this network namespace.
std::map<uint32_t, std::vector<std::string>> XdpAttachments() {
  std::map<uint32_t, std::vector<std::string>> by_prog;
  struct if_nameindex* names = if_nameindex();
  if (!names) return by_prog;
  for (struct if_nameindex* n = names; n->if_index != 0; ++n) {
    bpf_xdp_query_opts q{};
    q.sz = sizeof(q);
    if (bpf_xdp_query(static_cast<int>(n->if_index), 0, &q) != 0) continue;
    for (auto [id, mode] : {std::pair{q.drv_prog_id, "native"}, std::pair{q.skb_prog_id, "generic"},
                            std::pair{q.hw_prog_id, "offloaded"}}) {
      if (id) by_prog[id].push_back(fmt::format("{} ({})", n->if_name, mode));
    }
  }
  if_freenameindex(names);
  return by_prog;
}

std::string ProgTypeName(uint32_t type) {
  const char* name = libbpf_bpf_prog_type_str(static_cast<bpf_prog_type>(type));
  return name ? name : fmt::format("type {}", type);
}

std::string Join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

// The loaded programs whose name and type are one of sealfs's (bpf/*.bpf.c),
// by id. Needs CAP_SYS_ADMIN (EPERM otherwise).
Result<std::vector<LoadedProgram>> FindSealfsPrograms() {
  std::vector<LoadedProgram> found;
  const std::map<uint32_t, std::vector<std::string>> attachments = XdpAttachments();
  uint32_t id = 0;
  while (true) {
    if (bpf_prog_get_next_id(id, &id) != 0) {
      if (errno == ENOENT) break;
      return Status::Error(errno, fmt::format("cannot list the loaded BPF programs: {} (needs "
                                              "root, or CAP_SYS_ADMIN)",
                                              std::strerror(errno)));
    }
    UniqueFd fd(bpf_prog_get_fd_by_id(id));
    if (fd.get() < 0) continue;  // unloaded meanwhile
    std::vector<uint32_t> map_ids(64);
    bpf_prog_info info{};
    info.nr_map_ids = static_cast<uint32_t>(map_ids.size());
    info.map_ids = reinterpret_cast<uintptr_t>(map_ids.data());
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) continue;
    const KnownProgram* known = Known(info);
    if (!known) continue;
    map_ids.resize(std::min<size_t>(info.nr_map_ids, map_ids.size()));
    LoadedProgram p{.id = id,
                    .type = info.type,
                    .name = info.name,
                    .what = known->what,
                    .map_ids = std::move(map_ids)};
    if (auto a = attachments.find(id); a != attachments.end()) p.attached_to = a->second;
    found.push_back(std::move(p));
  }
  return found;
}

}  // namespace

int RunBpfList(const BpfListOptions& options, std::ostream& out, std::ostream& err) {
  Result<std::vector<LoadedProgram>> programs = FindSealfsPrograms();
  if (!programs.ok()) {
    fmt::print(err, "sealfs-loader bpf list: {}\n", programs.status().message());
    return 1;
  }
  Result<std::vector<PinnedMap>> maps = FindPinnedMaps(options.pin_root);
  if (!maps.ok()) {
    fmt::print(err, "sealfs-loader bpf list: {}\n", maps.status().message());
    return 1;
  }
  std::map<uint32_t, const PinnedMap*> pinned_by_id;
  for (const PinnedMap& m : *maps) pinned_by_id[m.id] = &m;

  fmt::print(out, "sealfs BPF programs loaded on this host: {}\n", programs->size());
  for (const LoadedProgram& p : *programs) {
    fmt::print(out, "  program {}: {} {}, {}\n", p.id, ProgTypeName(p.type), p.name, p.what);
    if (p.type == BPF_PROG_TYPE_XDP) {
      fmt::print(out, "    attached to: {}\n",
                 p.attached_to.empty() ? "no interface of this network namespace"
                                       : Join(p.attached_to, ", "));
    }
    std::vector<std::string> dirs;
    for (uint32_t map_id : p.map_ids) {
      auto m = pinned_by_id.find(map_id);
      if (m != pinned_by_id.end() &&
          std::find(dirs.begin(), dirs.end(), m->second->dir) == dirs.end())
        dirs.push_back(m->second->dir);
    }
    fmt::print(out, "    maps pinned in: {}\n",
               dirs.empty() ? fmt::format("none under {}", options.pin_root) : Join(dirs, ", "));
    fmt::print(out, "    dump: bpftool prog dump xlated id {}\n", p.id);
  }
  fmt::print(out, "maps pinned under {}: {}\n", options.pin_root, maps->size());
  for (const PinnedMap& m : *maps) {
    fmt::print(out, "  {}: {}, {} entries of {} bytes, map id {}\n", m.path, MapTypeName(m.type),
               m.max_entries, m.value_size, m.id);
    fmt::print(out, "    dump: bpftool map dump pinned {}\n", m.path);
  }
  return 0;
}

}  // namespace sealfs
