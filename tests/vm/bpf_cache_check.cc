// bpf_cache_check: VM test of sealfs's FUSE BPF cache (userspace/client/
// bpf_cache.*, bpf/sealfs_cache.bpf.c).  Mounts a tiny libfuse3 low-level file
// system served by a thread of this process, attaches a BpfCache to it and
// fills the cache from the daemon's replies as sealfs-mount does, then checks
// from the main thread what reaches the daemon and what the program answers.
// The daemon's entry and attribute timeouts are zero, and the program's
// answers are valid for one tick at most, so every stat() 20 ms after the
// last reaches the FUSE layer (the program or the daemon).
//
// Usage: bpf_cache_check (as root, on the patched kernel; vm-test/test-suite
// runs it through tests/vm/test-bpf-cache.sh).  Prints TAP; exits 0 when all
// passed, 1 when a check failed, 77 (after "SKIP: reason") when it cannot run.
// BPF_CACHE_CHECK_DUMP=1 also prints `bpftool map dump` of entries and attrs.
#define FUSE_USE_VERSION 34

#include <bpf/bpf.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "bpf_cache.h"
#include "sealfs_cache.h"

namespace {

using sealfs::BpfCache;
using sealfs::BpfCacheCounters;

constexpr fuse_ino_t kRoot = 1;

// The daemon's tree: nodeid = index + 2.
struct Node {
  fuse_ino_t parent;
  const char* name;
  mode_t mode;
  off_t size;
};
// 100 bytes: its entry goes to the long_entries map.
constexpr char kLongName[] =
    "a-name-of-one-hundred-bytes-which-is-too-long-for-the-entries-map-and-lives-in-long_entries-"
    "01234567";
static_assert(sizeof(kLongName) - 1 == 100);
constexpr Node kNodes[] = {{kRoot, "f1", S_IFREG | 0644, 111},
                           {kRoot, "f2", S_IFREG | 0600, 222},
                           {kRoot, "d", S_IFDIR | 0755, 0},
                           {4, "g", S_IFREG | 0640, 555},
                           {kRoot, kLongName, S_IFREG | 0644, 666}};
constexpr fuse_ino_t kF1 = 2, kF2 = 3, kDir = 4, kG = 5, kLong = 6;
constexpr time_t kMtime = 1700000000;
constexpr long kMtimeNsec = 123456789;

std::atomic<uint64_t> g_lookups{0}, g_getattrs{0};
std::atomic<uint64_t> g_fill_gen{1};  // stamped on what the daemon puts into the cache
std::atomic<BpfCache*> g_cache{nullptr};

bool FillStat(fuse_ino_t ino, struct stat* st) {
  *st = {};
  st->st_ino = ino;
  st->st_uid = 4321;
  st->st_gid = 8765;
  st->st_blksize = 4096;
  st->st_mtim = {kMtime, kMtimeNsec};
  st->st_ctim = {kMtime, 0};
  st->st_atim = {kMtime, 0};
  if (ino == kRoot) {
    st->st_mode = S_IFDIR | 0755;
    st->st_nlink = 3;
    return true;
  }
  if (ino < 2 || ino >= 2 + std::size(kNodes)) return false;
  const Node& n = kNodes[ino - 2];
  st->st_mode = n.mode;
  st->st_nlink = S_ISDIR(n.mode) ? 2 : 1;
  st->st_size = n.size;
  st->st_blocks = (n.size + 511) / 512;
  return true;
}

// The daemon fills the cache from each reply, before sending it, as
// sealfs-mount does.
void DoLookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  g_lookups++;
  for (size_t i = 0; i < std::size(kNodes); i++) {
    if (kNodes[i].parent != parent || strcmp(kNodes[i].name, name) != 0) continue;
    fuse_entry_param e{};
    e.ino = i + 2;
    FillStat(e.ino, &e.attr);
    if (BpfCache* c = g_cache.load()) {
      c->PutAttr(e.ino, e.attr, g_fill_gen);
      c->PutEntry(parent, name, e.ino, g_fill_gen);
    }
    fuse_reply_entry(req, &e);
    return;
  }
  fuse_reply_err(req, ENOENT);
}

void DoGetattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  g_getattrs++;
  struct stat st;
  if (!FillStat(ino, &st)) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  if (BpfCache* c = g_cache.load()) c->PutAttr(ino, st, g_fill_gen);
  fuse_reply_attr(req, &st, 0);
}

std::atomic<fuse_session*> g_se{nullptr};
std::atomic<int> g_mkdir_expire{1};  // what the mkdir handler's expiry returned

// Expires the root's f1 while the caller of mkdir holds the root's lock, as
// sealfs-mount does when a server's invalidation arrives for the directory a
// local call is changing, then refuses the mkdir.
void DoMkdir(fuse_req_t req, fuse_ino_t, const char*, mode_t) {
  g_mkdir_expire = fuse_lowlevel_notify_expire_entry(g_se, kRoot, "f1", 2, FUSE_LL_EXPIRE_ONLY);
  fuse_reply_err(req, EPERM);
}

const fuse_lowlevel_ops kOps = {.lookup = DoLookup, .getattr = DoGetattr, .mkdir = DoMkdir};

int g_checks = 0, g_failures = 0;

void Check(bool ok, const std::string& what) {
  g_checks++;
  if (!ok) g_failures++;
  printf("%s %d - %s\n", ok ? "ok" : "not ok", g_checks, what.c_str());
  fflush(stdout);
}

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// stat()s path n times, 20 ms apart.  With zero timeouts each stat asks
// LOOKUP (revalidating the dentry; never for the mount root) and GETATTR.
bool StatN(const std::string& path, int n, struct stat* st = nullptr) {
  struct stat tmp;
  for (int i = 0; i < n; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (stat(path.c_str(), st ? st : &tmp) != 0) return false;
  }
  return true;
}

// fstat()s fd n times, 20 ms apart: each asks GETATTR only.
bool FstatN(int fd, int n, struct stat* st = nullptr) {
  struct stat tmp;
  for (int i = 0; i < n; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (fstat(fd, st ? st : &tmp) != 0) return false;
  }
  return true;
}

// What one step did: the daemon's request counts and the program's counters.
struct Delta {
  uint64_t lookups, getattrs;
  BpfCacheCounters c;
};

class Snapshot {
 public:
  explicit Snapshot(const BpfCache& cache)
      : cache_(cache), lookups_(g_lookups), getattrs_(g_getattrs), c_(cache.Counters()) {}
  Delta Since() const {
    BpfCacheCounters now = cache_.Counters();
    return {g_lookups - lookups_,
            g_getattrs - getattrs_,
            {now.lookup_hit - c_.lookup_hit, now.lookup_miss - c_.lookup_miss,
             now.lookup_forward - c_.lookup_forward, now.getattr_hit - c_.getattr_hit,
             now.getattr_miss - c_.getattr_miss, now.getattr_forward - c_.getattr_forward}};
  }

 private:
  const BpfCache& cache_;
  uint64_t lookups_, getattrs_;
  BpfCacheCounters c_;
};

std::string Describe(const Delta& d) {
  char buf[256];
  snprintf(buf, sizeof(buf),
           "daemon lookup %lu getattr %lu; lookup hit %lu miss %lu fwd %lu; getattr hit %lu "
           "miss %lu fwd %lu",
           (unsigned long)d.lookups, (unsigned long)d.getattrs, (unsigned long)d.c.lookup_hit,
           (unsigned long)d.c.lookup_miss, (unsigned long)d.c.lookup_forward,
           (unsigned long)d.c.getattr_hit, (unsigned long)d.c.getattr_miss,
           (unsigned long)d.c.getattr_forward);
  return buf;
}

// Check with the counts appended, so that a failure shows what happened.
void CheckDelta(bool ok, const std::string& what, const Delta& d) {
  Check(ok, what + " (" + Describe(d) + ")");
}

std::string Run(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

size_t CountKeys(const std::string& pinned) {
  int fd = bpf_obj_get(pinned.c_str());
  if (fd < 0) return 0;
  sealfs_long_entry_key key, next;  // room for either map's keys
  size_t n = 0;
  for (const void* prev = nullptr; bpf_map_get_next_key(fd, prev, &next) == 0; prev = &key) {
    key = next;
    n++;
  }
  close(fd);
  return n;
}

int PinnedMapType(const std::string& pinned) {
  int fd = bpf_obj_get(pinned.c_str());
  if (fd < 0) return -1;
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  int type = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? int(info.type) : -1;
  close(fd);
  return type;
}

// Leaves a pin the way a killed daemon would: an unrelated map named entries.
bool PlantStalePin(const std::string& dir) {
  Run("mkdir -p " + dir);
  int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "stale", 4, 4, 1, nullptr);
  if (fd < 0) return false;
  bool ok = bpf_obj_pin(fd, (dir + "/entries").c_str()) == 0;
  close(fd);
  return ok;
}

void RunChecks(int dev_fd, const std::string& mnt) {
  const std::string f1 = mnt + "/f1", f2 = mnt + "/f2", g = mnt + "/d/g";
  const std::string pin_dir = "/sys/fs/bpf/sealfs/check-" + std::to_string(getpid());
  const uint64_t future = MonotonicNs() + 3600ull * 1000000000;

  Check(PlantStalePin(pin_dir), "setup: a stale pin_dir/entries of another map");
  auto attached = BpfCache::Attach(dev_fd, pin_dir, {.max_entries = 1024, .max_attrs = 512});
  Check(attached.ok(), "attach: " + (attached.ok() ? pin_dir : attached.status().ToString()));
  if (!attached.ok()) return;
  std::unique_ptr<BpfCache> cache = std::move(attached.value());
  Check(PinnedMapType(pin_dir + "/entries") == BPF_MAP_TYPE_LRU_HASH,
        "attach: the stale entries pin was replaced by the cache's own map");
  Check(Run("bpftool map show pinned " + pin_dir + "/entries").find("max_entries 1024") !=
            std::string::npos,
        "attach: max_entries set from the options");
  g_cache = cache.get();

  // Before any lease nothing is answered.
  Snapshot s0(*cache);
  Check(StatN(f1, 2), "no lease: stat f1");
  Delta d = s0.Since();
  CheckDelta(d.lookups == 2 && d.c.lookup_hit == 0 && d.c.lookup_forward >= 1,
             "no lease: LOOKUPs reach the daemon", d);

  cache->SetLease(future, 1);
  Snapshot s1(*cache);
  struct stat st;
  Check(StatN(f1, 5, &st), "hit: stat f1 five times");
  d = s1.Since();
  CheckDelta(d.lookups == 0 && d.getattrs == 0, "hit: no LOOKUP or GETATTR reached the daemon", d);
  // The attributes a LOOKUP answer carries are valid for one tick, and the
  // kernel applies them in RCU-walk too (nothing here needs page cache work):
  // the stat() that looked the name up takes them without a GETATTR.
  CheckDelta(d.c.lookup_hit == 5 && d.c.getattr_hit == 0, "hit: the counters rose", d);
  Check(st.st_ino == kF1 && st.st_size == 111 && st.st_mode == (S_IFREG | 0644) &&
            st.st_nlink == 1 && st.st_uid == 4321 && st.st_gid == 8765 &&
            st.st_mtim.tv_sec == kMtime && st.st_mtim.tv_nsec == kMtimeNsec && st.st_blocks == 1,
        "hit: stat shows the daemon's attributes");

  Snapshot s2(*cache);
  Check(StatN(mnt, 3) && StatN(g, 3), "hit: stat the root and d/g");
  StatN(g, 1, &st);
  d = s2.Since();
  CheckDelta(d.lookups <= 2 && d.getattrs <= 1, "hit: d and d/g are learnt once", d);
  Snapshot s3(*cache);
  Check(StatN(mnt, 3) && StatN(g, 3) && st.st_ino == kG && st.st_size == 555,
        "hit: stat the root and d/g again");
  d = s3.Since();
  CheckDelta(d.lookups == 0 && d.getattrs == 0 && d.c.getattr_hit >= 3,
             "hit: in a subdirectory too, and GETATTR of the root", d);

  const std::string long_path = mnt + "/" + kLongName;
  Check(StatN(long_path, 1), "long name: stat it once, the daemon fills long_entries");
  Snapshot s3l(*cache);
  Check(StatN(long_path, 3, &st) && st.st_ino == kLong && st.st_size == 666,
        "long name: stat it three times");
  d = s3l.Since();
  CheckDelta(d.lookups == 0 && d.getattrs == 0 && d.c.lookup_hit == 3,
             "long name: answered from long_entries", d);
  Check(CountKeys(pin_dir + "/long_entries") == 1, "long name: one key in long_entries");

  Snapshot s4(*cache);
  Check(!StatN(mnt + "/g", 1) && errno == ENOENT && !StatN(mnt + "/g", 1),
        "parent: g is not in the root");
  d = s4.Since();
  CheckDelta(d.lookups == 2 && d.c.lookup_miss >= 2, "no negative caching: both reach the daemon",
             d);

  int fd = open(f2.c_str(), O_RDONLY);
  Check(fd >= 0, "getattr: open f2");
  Snapshot s5(*cache);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Check(fstat(fd, &st) == 0 && st.st_size == 222, "getattr: fstat f2");
  d = s5.Since();
  CheckDelta(d.getattrs == 0 && d.c.getattr_hit == 1, "getattr: fstat is answered", d);
  cache->DeleteAttr(kF2);
  Snapshot s6(*cache);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Check(fstat(fd, &st) == 0 && st.st_size == 222, "DeleteAttr: fstat f2");
  d = s6.Since();
  CheckDelta(d.getattrs == 1 && d.c.getattr_miss == 1, "DeleteAttr: GETATTR reaches the daemon", d);
  close(fd);

  cache->DeleteAttr(kF1);
  Snapshot s7(*cache);
  Check(StatN(f1, 1), "DeleteAttr: stat f1");
  d = s7.Since();
  CheckDelta(d.lookups == 1 && d.c.lookup_forward == 1,
             "DeleteAttr: an entry without attributes is forwarded", d);
  Snapshot s8(*cache);
  Check(StatN(f1, 2), "refill: stat f1");
  d = s8.Since();
  CheckDelta(d.lookups == 0 && d.getattrs == 0, "refill: the daemon's reply filled it again", d);

  cache->DeleteEntry(kRoot, "f1");
  Snapshot s9(*cache);
  Check(StatN(f1, 1), "DeleteEntry: stat f1");
  d = s9.Since();
  CheckDelta(d.lookups == 1 && d.c.lookup_miss == 1, "DeleteEntry: LOOKUP reaches the daemon", d);

  int fd1 = open(f1.c_str(), O_RDONLY);
  Check(fd1 >= 0, "open f1");
  cache->SetLease(1, 1);
  Snapshot s10(*cache);
  Check(StatN(f1, 3) && FstatN(fd1, 2), "expired lease: stat and fstat f1");
  d = s10.Since();
  CheckDelta(d.lookups == 3 && d.getattrs == 5 && d.c.lookup_hit == 0 && d.c.getattr_hit == 0 &&
                 d.c.lookup_forward == 3 && d.c.getattr_forward == 5,
             "expired lease: everything is forwarded", d);

  cache->SetLease(future, 2);  // the values carry fill_gen 1
  Snapshot s11(*cache);
  Check(StatN(f1, 2) && FstatN(fd1, 2), "min_fill_gen 2: stat and fstat f1");
  d = s11.Since();
  CheckDelta(d.lookups == 2 && d.getattrs == 4 && d.c.lookup_forward == 2 &&
                 d.c.getattr_forward == 4 && d.c.lookup_hit == 0 && d.c.getattr_hit == 0,
             "min_fill_gen 2: values of fill_gen 1 are forwarded", d);
  g_fill_gen = 2;
  Check(StatN(f1, 1), "min_fill_gen 2: the daemon refills with fill_gen 2");
  Snapshot s12(*cache);
  Check(StatN(f1, 3, &st) && FstatN(fd1, 2), "min_fill_gen 2: stat and fstat f1");
  d = s12.Since();
  CheckDelta(d.lookups == 0 && d.getattrs == 0 && d.c.lookup_hit == 3 && d.c.getattr_hit == 2,
             "min_fill_gen 2: values of fill_gen 2 are answered", d);

  // A dentry confirmed in RCU-walk is valid for the tick: stats back to back
  // ask the program once.
  Snapshot s13(*cache);
  for (int i = 0; i < 5; i++) stat(f1.c_str(), &st);
  d = s13.Since();
  CheckDelta(d.lookups == 0 && d.c.lookup_hit >= 1 && d.c.lookup_hit < 5,
             "entry validity: back-to-back stats share an answer", d);
  // The daemon's expiry ends it at once.
  Check(stat(f1.c_str(), &st) == 0, "expire: stat f1");
  cache->DeleteEntry(kRoot, "f1");
  Check(fuse_lowlevel_notify_expire_entry(g_se, kRoot, "f1", 2, FUSE_LL_EXPIRE_ONLY) == 0,
        "expire: the kernel took FUSE_NOTIFY_INVAL_ENTRY with FUSE_EXPIRE_ONLY");
  Snapshot s14(*cache);
  Check(stat(f1.c_str(), &st) == 0, "expire: stat f1 again at once");
  d = s14.Since();
  CheckDelta(d.lookups == 1 && d.c.lookup_miss == 1,
             "expire: the next stat asks again (program miss, then the daemon)", d);
  close(fd1);

  size_t keys = CountKeys(pin_dir + "/entries");
  struct stat any {};
  cache->PutEntry(kRoot, std::string(256, 'x'), kF1, 2);
  cache->PutAttr(kF1 + 1000, any, 2);
  Check(
      keys >= 3 && CountKeys(pin_dir + "/entries") == keys &&
          CountKeys(pin_dir + "/long_entries") == 1,
      "too long a name: PutEntry of 256 bytes caches nothing (" + std::to_string(keys) + " keys)");
  cache->DeleteEntry(kRoot, kLongName);
  Check(CountKeys(pin_dir + "/long_entries") == 0, "DeleteEntry: of a long name");
  cache->DeleteAttr(kF1 + 1000);
  cache->DeleteEntry(kRoot, "absent");

  std::string dump = Run("bpftool map dump pinned " + pin_dir + "/entries");
  Check(Contains(dump, "\"name\": \"f1\"") && Contains(dump, "\"nodeid\": 2") &&
            Contains(dump, "\"fill_gen\": 2"),
        "bpftool: entries dump shows names and values");
  std::string attrs_dump = Run("bpftool map dump pinned " + pin_dir + "/attrs");
  Check(Contains(attrs_dump, "\"mtimensec\": 123456789") && Contains(attrs_dump, "\"size\": 111"),
        "bpftool: attrs dump shows struct fuse_attr fields");
  Check(Contains(Run("bpftool map dump pinned " + pin_dir + "/lease"), "\"min_fill_gen\": 2"),
        "bpftool: lease dump shows the lease");
  Check(Contains(Run("bpftool map dump pinned " + pin_dir + "/counters"), "\"cpu\": 0"),
        "bpftool: counters dump shows per-CPU values");
  if (getenv("BPF_CACHE_CHECK_DUMP")) printf("%s%s", dump.c_str(), attrs_dump.c_str());

  auto pinned = BpfCache::ReadPinnedCounters(pin_dir);
  BpfCacheCounters c = cache->Counters();
  Check(pinned.ok() && pinned->lookup_hit == c.lookup_hit && pinned->lookup_miss == c.lookup_miss &&
            pinned->getattr_forward == c.getattr_forward && c.lookup_hit > 0,
        "ReadPinnedCounters: the same counters as Counters()");
  Check(!BpfCache::ReadPinnedCounters("/sys/fs/bpf/sealfs/absent").ok(),
        "ReadPinnedCounters: an absent cache is an error");

  const std::string other_dir = pin_dir + "-second";
  auto second = BpfCache::Attach(dev_fd, other_dir, {});
  Check(!second.ok() && Contains(second.status().message(), "already attached"),
        "second attach on the connection is refused: " + second.status().message());
  Check(access(other_dir.c_str(), F_OK) != 0, "second attach left no pins");

  g_cache = nullptr;
  cache.reset();
  Check(access(pin_dir.c_str(), F_OK) != 0, "detach: the pins and pin_dir are gone");
  uint64_t before = g_lookups;
  Check(StatN(f1, 1) && g_lookups == before + 1, "detach: LOOKUP reaches the daemon again");

  // The expiry does not wait for the directory's lock, which the caller of
  // mkdir holds until the daemon answers.  Mainline would deadlock here; the
  // connection is then aborted (its id read now: a stuck daemon answers
  // nothing) so that the check ends.
  struct stat mst;
  const std::string abort_path =
      stat(mnt.c_str(), &mst) == 0
          ? "/sys/fs/fuse/connections/" + std::to_string(minor(mst.st_dev)) + "/abort"
          : "";
  auto made = std::async(std::launch::async,
                         [&] { return mkdir((mnt + "/newdir").c_str(), 0755) == 0 ? 0 : errno; });
  bool answered = made.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  if (!answered && !abort_path.empty())
    Run("mountpoint -q /sys/fs/fuse/connections || "
        "mount -t fusectl fusectl /sys/fs/fuse/connections; echo 1 > " +
        abort_path);
  int made_err = made.get();
  Check(answered && made_err == EPERM && g_mkdir_expire == 0,
        "expire: done while mkdir holds the directory's lock (mkdir got " +
            std::string(strerror(made_err)) + ")");
}

}  // namespace

int main() {
  if (geteuid() != 0) {
    printf("SKIP: needs root (mounts a FUSE file system, loads BPF)\n");
    return 77;
  }
  if (sealfs::Status s = BpfCache::HookAvailable(); !s.ok()) {
    printf("SKIP: %s\n", s.message().c_str());
    return 77;
  }
  char dir[] = "/tmp/bpf-cache-check.XXXXXX";
  if (!mkdtemp(dir)) {
    perror("bpf_cache_check: mkdtemp");
    return 1;
  }
  const std::string mnt = dir;
  const char* argv[] = {"bpf_cache_check", nullptr};
  fuse_args args = FUSE_ARGS_INIT(1, const_cast<char**>(argv));
  fuse_session* se = fuse_session_new(&args, &kOps, sizeof(kOps), nullptr);
  if (!se || fuse_session_mount(se, mnt.c_str()) != 0) {
    fprintf(stderr, "bpf_cache_check: cannot mount on %s\n", mnt.c_str());
    return 1;
  }
  g_se = se;
  std::thread daemon([se] { fuse_session_loop(se); });
  RunChecks(fuse_session_fd(se), mnt);
  fuse_session_exit(se);
  fuse_session_unmount(se);
  daemon.join();
  fuse_session_destroy(se);
  rmdir(mnt.c_str());

  printf("1..%d\n", g_checks);
  if (g_failures) {
    printf("FAIL: %d of %d BPF cache checks failed\n", g_failures, g_checks);
    return 1;
  }
  printf("PASS: %d BPF cache checks\n", g_checks);
  return 0;
}
