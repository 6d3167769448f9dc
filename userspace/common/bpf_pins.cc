#include "bpf_pins.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace sealfs {
namespace {
constexpr unsigned long kBpfFsMagic = 0xcafe4a11;  // BPF_FS_MAGIC, <linux/magic.h>
constexpr char kBpfFsRoot[] = "/sys/fs/bpf";

bool OnBpfFs(const std::string& path) {
  struct statfs fs;
  return statfs(path.c_str(), &fs) == 0 && static_cast<unsigned long>(fs.f_type) == kBpfFsMagic;
}

// Mounts the BPF file system on /sys/fs/bpf when nothing is mounted there
// yet (as iproute2 does): systemd mounts it at boot, other inits may not.
Status MountBpfFsIfMissing(const std::string& dir) {
  if (dir.rfind(std::string(kBpfFsRoot) + "/", 0) != 0 || OnBpfFs(kBpfFsRoot)) return Status::Ok();
  if (mount("bpf", kBpfFsRoot, "bpf", 0, "mode=0700") != 0)
    return ErrnoStatus(std::string("no BPF file system on ") + kBpfFsRoot +
                       " and it cannot be mounted there");
  return Status::Ok();
}
}  // namespace

Status ErrnoStatus(const std::string& what) {
  int err = errno;
  return Status::Error(err, what + ": " + std::strerror(err));
}

std::string PinPath(const std::string& dir, const char* name) { return dir + "/" + name; }

Status PreparePinDir(const std::string& dir, std::span<const char* const> names) {
  if (Status s = MountBpfFsIfMissing(dir); !s.ok()) return s;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Status::Error(ec.value(), "cannot create BPF pin directory " + dir + ": " +
                                         ec.message() + " (is /sys/fs/bpf mounted?)");
  }
  if (!OnBpfFs(dir)) {
    return Status::Error(
        ENOTSUP,
        "BPF pin directory " + dir + " is not on a BPF file system (mount -t bpf bpf /sys/fs/bpf)");
  }
  for (const char* name : names) {
    std::string path = PinPath(dir, name);
    if (unlink(path.c_str()) != 0 && errno != ENOENT)
      return ErrnoStatus("cannot remove stale BPF pin " + path);
  }
  return Status::Ok();
}

void Unpin(const std::string& dir, std::span<const char* const> names) {
  for (const char* name : names) unlink(PinPath(dir, name).c_str());
  rmdir(dir.c_str());
}

Result<std::vector<uint64_t>> SumPerCpuCounters(int fd, uint32_t count) {
  int ncpus = libbpf_num_possible_cpus();
  if (ncpus <= 0) return Status::Error(-ncpus, "cannot count the possible CPUs");
  std::vector<uint64_t> per_cpu(ncpus);
  std::vector<uint64_t> sums(count);
  for (uint32_t i = 0; i < count; i++) {
    if (bpf_map_lookup_elem(fd, &i, per_cpu.data()) != 0)
      return ErrnoStatus("cannot read BPF counter " + std::to_string(i));
    for (uint64_t v : per_cpu) sums[i] += v;
  }
  return sums;
}

}  // namespace sealfs
