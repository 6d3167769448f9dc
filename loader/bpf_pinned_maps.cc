#include "bpf_pinned_maps.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "unique_fd.h"

namespace sealfs {
namespace {

// Whether `fd` (from bpf_obj_get) is a map: pins may also hold programs and
// links, and bpf_obj_get_info_by_fd reads whichever the fd is.
bool IsMapFd(int fd) {
  std::error_code ec;
  std::filesystem::path target =
      std::filesystem::read_symlink(fmt::format("/proc/self/fd/{}", fd), ec);
  return !ec && target.string() == "anon_inode:bpf-map";
}

}  // namespace

std::string MapTypeName(uint32_t type) {
  const char* name = libbpf_bpf_map_type_str(static_cast<bpf_map_type>(type));
  return name ? name : fmt::format("type {}", type);
}

Result<std::vector<PinnedMap>> FindPinnedMaps(const std::string& root) {
  std::vector<PinnedMap> maps;
  std::error_code ec;
  if (!std::filesystem::exists(root, ec)) return maps;
  std::filesystem::recursive_directory_iterator it(root, ec), end;
  if (ec) return Status::Error(ec.value(), fmt::format("cannot read {}: {}", root, ec.message()));
  for (; it != end; it.increment(ec)) {
    if (ec) return Status::Error(ec.value(), fmt::format("cannot read {}: {}", root, ec.message()));
    if (!it->is_regular_file(ec)) continue;
    const std::string path = it->path().string();
    UniqueFd fd(bpf_obj_get(path.c_str()));
    if (fd.get() < 0 || !IsMapFd(fd.get())) continue;
    bpf_map_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) continue;
    maps.push_back({.path = path,
                    .dir = it->path().parent_path().string(),
                    .name = it->path().filename().string(),
                    .id = info.id,
                    .type = info.type,
                    .max_entries = info.max_entries,
                    .value_size = info.value_size});
  }
  std::sort(maps.begin(), maps.end(),
            [](const PinnedMap& a, const PinnedMap& b) { return a.path < b.path; });
  return maps;
}

}  // namespace sealfs
