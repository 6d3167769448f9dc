#include "bpf_cache.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "bpf_pins.h"
#include "fuse_hook_attach.h"
#include "sealfs_cache.h"
#include "sealfs_cache.skel.h"

namespace sealfs {
namespace {

// The pinned maps, by file name under pin_dir (documented in kernel-hook.md).
constexpr std::array<const char*, 5> kPinNames = {"entries", "long_entries", "attrs", "lease",
                                                  "counters"};

// Zero-filled key of Key's type for (parent, name); false if name does not fit.
template <class Key>
bool MakeKey(uint64_t parent, std::string_view name, Key* key) {
  if (name.size() >= sizeof(key->name)) return false;
  std::memset(key, 0, sizeof(*key));
  key->parent = parent;
  key->name_len = static_cast<__u32>(name.size());
  std::memcpy(key->name, name.data(), name.size());
  return true;
}

// Calls fn(map_fd, key) with the key of (parent, name) in the map the program
// looks it up in: `entries` for short names, `long_entries` for the others.
// Names of SEALFS_CACHE_NAME_MAX bytes or more are never cached: no call.
template <class Fn>
void WithEntryKey(int entries_fd, int long_entries_fd, uint64_t parent, std::string_view name,
                  Fn fn) {
  if (name.size() < SEALFS_CACHE_SHORT_NAME_MAX) {
    sealfs_entry_key key;
    if (MakeKey(parent, name, &key)) fn(entries_fd, &key);
  } else {
    sealfs_long_entry_key key;
    if (MakeKey(parent, name, &key)) fn(long_entries_fd, &key);
  }
}

// As libfuse's convert_stat, which fills its own replies.
fuse_attr ToFuseAttr(const struct stat& st) {
  fuse_attr a{};
  a.ino = st.st_ino;
  a.mode = st.st_mode;
  a.nlink = st.st_nlink;
  a.uid = st.st_uid;
  a.gid = st.st_gid;
  a.rdev = st.st_rdev;
  a.size = st.st_size;
  a.blksize = st.st_blksize;
  a.blocks = st.st_blocks;
  a.atime = st.st_atim.tv_sec;
  a.mtime = st.st_mtim.tv_sec;
  a.ctime = st.st_ctim.tv_sec;
  a.atimensec = st.st_atim.tv_nsec;
  a.mtimensec = st.st_mtim.tv_nsec;
  a.ctimensec = st.st_ctim.tv_nsec;
  return a;
}

// Sums the per-CPU counters of the `counters` map open as fd.
Result<BpfCacheCounters> SumCounters(int fd) {
  Result<std::vector<uint64_t>> sums = SumPerCpuCounters(fd, SEALFS_CACHE_COUNTERS);
  if (!sums.ok()) return sums.status();
  BpfCacheCounters c;
  c.lookup_hit = (*sums)[SEALFS_LOOKUP_HIT];
  c.lookup_miss = (*sums)[SEALFS_LOOKUP_MISS];
  c.lookup_forward = (*sums)[SEALFS_LOOKUP_FORWARD];
  c.getattr_hit = (*sums)[SEALFS_GETATTR_HIT];
  c.getattr_miss = (*sums)[SEALFS_GETATTR_MISS];
  c.getattr_forward = (*sums)[SEALFS_GETATTR_FORWARD];
  return c;
}

}  // namespace

Status BpfCache::HookAvailable() {
  char msg[512] = "";
  switch (fuse_hook_available(msg, sizeof(msg))) {
    case 1:
      return Status::Ok();
    case 0:
      return Status::Error(EOPNOTSUPP, msg);
    default:
      return Status::Error(ENOENT, msg);
  }
}

Result<std::unique_ptr<BpfCache>> BpfCache::Attach(int fuse_dev_fd, const std::string& pin_dir,
                                                   BpfCacheOptions opts) {
  if (Status s = HookAvailable(); !s.ok()) return s;
  if (opts.max_entries == 0 || opts.max_long_entries == 0 || opts.max_attrs == 0)
    return Status::Error(EINVAL, "BPF cache sizes must be positive");

  sealfs_cache* skel = sealfs_cache__open();
  if (!skel) return ErrnoStatus("cannot open the sealfs_cache BPF program");
  // Frees the skeleton on every early return.
  std::unique_ptr<sealfs_cache, void (*)(sealfs_cache*)> guard(skel, sealfs_cache__destroy);

  char msg[512] = "";
  bpf_map* ops = fuse_hook_prepare(skel->obj, msg, sizeof(msg));
  if (!ops) return Status::Error(EINVAL, msg);
  if (bpf_map__set_max_entries(skel->maps.entries, opts.max_entries) != 0 ||
      bpf_map__set_max_entries(skel->maps.long_entries, opts.max_long_entries) != 0 ||
      bpf_map__set_max_entries(skel->maps.attrs, opts.max_attrs) != 0)
    return Status::Error(EINVAL, "cannot size the BPF cache maps");
  if (int err = sealfs_cache__load(skel); err != 0) {
    return Status::Error(-err, std::string("the kernel refused to load the sealfs_cache BPF "
                                           "program: ") +
                                   std::strerror(-err) + " (libbpf printed the reason to stderr)");
  }

  if (Status s = PreparePinDir(pin_dir, kPinNames); !s.ok()) return s;
  const std::array<bpf_map*, kPinNames.size()> maps = {skel->maps.entries, skel->maps.long_entries,
                                                       skel->maps.attrs, skel->maps.lease,
                                                       skel->maps.counters};
  for (size_t i = 0; i < maps.size(); i++) {
    std::string path = PinPath(pin_dir, kPinNames[i]);
    if (int err = bpf_map__pin(maps[i], path.c_str()); err != 0) {
      Unpin(pin_dir, kPinNames);
      return Status::Error(-err, "cannot pin BPF map at " + path + ": " + std::strerror(-err));
    }
  }

  int link_fd = fuse_hook_link(skel->obj, ops, fuse_dev_fd, msg, sizeof(msg));
  if (link_fd < 0) {
    int err = errno ? errno : EINVAL;
    Unpin(pin_dir, kPinNames);
    return Status::Error(err, msg);
  }
  return std::unique_ptr<BpfCache>(new BpfCache(guard.release(), link_fd, pin_dir));
}

BpfCache::BpfCache(sealfs_cache* skel, int link_fd, std::string pin_dir)
    : skel_(skel),
      link_fd_(link_fd),
      pin_dir_(std::move(pin_dir)),
      entries_fd_(bpf_map__fd(skel->maps.entries)),
      long_entries_fd_(bpf_map__fd(skel->maps.long_entries)),
      attrs_fd_(bpf_map__fd(skel->maps.attrs)),
      lease_fd_(bpf_map__fd(skel->maps.lease)),
      counters_fd_(bpf_map__fd(skel->maps.counters)) {}

BpfCache::~BpfCache() {
  close(link_fd_);  // detaches; no callback runs after this returns
  Unpin(pin_dir_, kPinNames);
  sealfs_cache__destroy(skel_);
}

void BpfCache::PutEntry(uint64_t parent, std::string_view name, uint64_t nodeid,
                        uint64_t fill_gen) {
  sealfs_entry_val val{.nodeid = nodeid, .generation = 0, .fill_gen = fill_gen};
  // A failed update (out of memory) leaves the name uncached: a miss.
  WithEntryKey(entries_fd_, long_entries_fd_, parent, name,
               [&](int fd, const void* key) { bpf_map_update_elem(fd, key, &val, BPF_ANY); });
}

void BpfCache::PutAttr(uint64_t nodeid, const struct stat& st, uint64_t fill_gen) {
  sealfs_attr_val val{.attr = ToFuseAttr(st), .fill_gen = fill_gen};
  bpf_map_update_elem(attrs_fd_, &nodeid, &val, BPF_ANY);
}

void BpfCache::DeleteEntry(uint64_t parent, std::string_view name) {
  // Fails only with ENOENT.
  WithEntryKey(entries_fd_, long_entries_fd_, parent, name,
               [](int fd, const void* key) { bpf_map_delete_elem(fd, key); });
}

void BpfCache::DeleteAttr(uint64_t nodeid) { bpf_map_delete_elem(attrs_fd_, &nodeid); }

void BpfCache::SetLease(uint64_t deadline_ns, uint64_t min_fill_gen) {
  // The kernel copies an ARRAY value in place, so the program may read one
  // field old and the other new.  Writing first the stricter of each field
  // makes every such mix no more permissive than the old or the new lease.
  std::lock_guard<std::mutex> lock(lease_mu_);
  const uint32_t zero = 0;
  sealfs_lease strict{.deadline_ns = std::min(deadline_ns, lease_deadline_ns_),
                      .min_fill_gen = std::max(min_fill_gen, lease_min_fill_gen_)};
  sealfs_lease next{.deadline_ns = deadline_ns, .min_fill_gen = min_fill_gen};
  bpf_map_update_elem(lease_fd_, &zero, &strict, BPF_ANY);
  bpf_map_update_elem(lease_fd_, &zero, &next, BPF_ANY);
  lease_deadline_ns_ = deadline_ns;
  lease_min_fill_gen_ = min_fill_gen;
}

BpfCacheCounters BpfCache::Counters() const {
  Result<BpfCacheCounters> c = SumCounters(counters_fd_);
  return c.ok() ? c.value() : BpfCacheCounters{};
}

Result<BpfCacheCounters> BpfCache::ReadPinnedCounters(const std::string& pin_dir) {
  std::string path = PinPath(pin_dir, "counters");
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) return ErrnoStatus("cannot open pinned BPF cache counters " + path);
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  Result<BpfCacheCounters> c =
      Status::Error(EINVAL, path + " is not a sealfs BPF cache's counters");
  if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.type == BPF_MAP_TYPE_PERCPU_ARRAY &&
      info.value_size == sizeof(uint64_t) && info.max_entries == SEALFS_CACHE_COUNTERS)
    c = SumCounters(fd);
  close(fd);
  return c;
}

}  // namespace sealfs
