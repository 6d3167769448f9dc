// sealfs-mount: mounts a sealfs cluster with FUSE.
#include <spdlog/spdlog.h>
#include <sys/random.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bpf_cache.h"
#include "cache_sessions.h"
#include "cluster_client.h"
#include "fuse_fs.h"
#include "kernel_cache.h"
#include "logging.h"

using namespace sealfs;

namespace {

// Owns the argv handed to libfuse.
struct FuseArgs {
  std::vector<std::string> storage;
  std::vector<char*> argv;
  fuse_args Make() {
    argv.clear();
    for (auto& s : storage) argv.push_back(s.data());
    return FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  }
};

// A mount point as /proc/self/mountinfo spells it (octal escapes).
std::string MountinfoEscape(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\\')
      out += fmt::format("\\{:03o}", static_cast<unsigned char>(c));
    else
      out += c;
  }
  return out;
}

// The kernel starts a FUSE mount with a 128 KiB readahead and, when it handles
// the reply to INIT, only ever lowers it to the max_readahead the daemon asks
// for, so sequential reads reach the daemon as 128 KiB requests. Root can raise
// it on the mount's backing device once INIT is done. The device comes from
// mountinfo: a stat() of the mount point would wait for this daemon's own
// reply. `canonical` is the mount point resolved before mounting, for the same
// reason.
// The "major:minor" device of the sealfs mount on `canonical`, from
// mountinfo ("" if none): a stat() of the mount point would wait for this
// daemon's own reply.
std::string MountDevice(const std::string& canonical) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  const std::string point = MountinfoEscape(canonical);
  std::string line, device;
  while (std::getline(mountinfo, line)) {
    std::istringstream fields(line);
    std::string id, parent, majmin, root, where;
    fields >> id >> parent >> majmin >> root >> where;
    if (where == point && line.find(" - fuse.sealfs ") != std::string::npos)
      device = majmin;  // the last one is on top
  }
  return device;
}

// The mount's BPF maps live in /sys/fs/bpf/sealfs/<id>/, where <id> is its
// FUSE connection number (as in /sys/fs/fuse/connections/<id>/): the minor
// number of its device.
std::string PinDir(const std::string& device) {
  return "/sys/fs/bpf/sealfs/" + device.substr(device.find(':') + 1);
}

// `sealfs-mount --stats MOUNTPOINT`.
int PrintStats(const std::string& mountpoint) {
  std::error_code ec;
  std::string canonical = std::filesystem::canonical(mountpoint, ec).string();
  std::string device = ec ? "" : MountDevice(canonical);
  if (device.empty()) {
    fmt::print(stderr, "sealfs-mount: {} is not a sealfs mount\n", mountpoint);
    return 1;
  }
  Result<BpfCacheCounters> c = BpfCache::ReadPinnedCounters(PinDir(device));
  if (!c.ok()) {
    fmt::print(stderr, "sealfs-mount: {}: no BPF cache counters ({}); was it mounted with --bpf?\n",
               mountpoint, c.status().ToString());
    return 1;
  }
  fmt::print("{:<8} {:>12} {:>12} {:>12}\n", "op", "hits", "misses", "forwards");
  fmt::print("{:<8} {:>12} {:>12} {:>12}\n", "lookup", c->lookup_hit, c->lookup_miss,
             c->lookup_forward);
  fmt::print("{:<8} {:>12} {:>12} {:>12}\n", "getattr", c->getattr_hit, c->getattr_miss,
             c->getattr_forward);
  return 0;
}

uint64_t RandomClientId() {
  uint64_t id = 0;
  while (id == 0)
    if (getrandom(&id, sizeof id, 0) != sizeof id) id = 0;
  return id;
}

void SetReadAhead(const std::string& canonical, unsigned kib) {
  std::string device = MountDevice(canonical);
  if (device.empty()) {
    spdlog::info("{} is not in /proc/self/mountinfo; readahead left as is", canonical);
    return;
  }
  std::ofstream knob("/sys/class/bdi/" + device + "/read_ahead_kb");
  knob << kib << std::flush;
  if (!knob)
    spdlog::info("cannot set the readahead of {} to {} KiB ({}); it stays at the kernel's",
                 canonical, kib, std::strerror(errno));
}

// Answers the first request of a new mount, INIT.
bool ServeInit(fuse_session* se) {
  fuse_buf buf{};
  int n = fuse_session_receive_buf(se, &buf);
  if (n > 0) fuse_session_process_buf(se, &buf);
  std::free(buf.mem);
  return n > 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sealfs-mount: mount a sealfs cluster"};
  std::string config_path, mountpoint, log_level = "warn";
  std::vector<std::string> fuse_opts;
  bool foreground = false;
  int timeout_ms = 3000;
  unsigned udp_timeout_us = 20000;
  unsigned read_ahead_kb = 4096;
  MountOptions opts;
  std::string bpf = "off";
  bool stats = false;
  BpfCacheOptions cache_opts;
  unsigned lease_ms = 2000;
  app.add_option("mountpoint", mountpoint, "directory to mount on")->required();
  app.add_option("-c,--config", config_path, "cluster file (TOML)");
  app.add_flag("--stats", stats,
               "print the BPF cache counters of the --bpf mount on MOUNTPOINT, then exit");
  app.add_option("--bpf", bpf,
                 "answer LOOKUP/GETATTR in the kernel from BPF maps: on (needs the FUSE BPF "
                 "hook), auto (use it if the kernel has it) or off; --bpf alone means on")
      ->expected(0, 1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
      ->default_str("on")
      ->check(CLI::IsMember({"on", "auto", "off"}));
  app.add_option("--cache-entries", cache_opts.max_entries,
                 "--bpf: names and attributes the maps hold each (LRU); names of 48 bytes "
                 "or more get a map of an eighth of this")
      ->check(CLI::Range(16u, 1u << 24));
  app.add_option("--cache-lease-ms", lease_ms,
                 "--bpf: lease asked of the servers; an unreachable client delays changes by "
                 "at most this")
      ->check(CLI::Range(200u, 60000u));
  app.add_flag("-f,--foreground", foreground, "stay in the foreground until unmounted");
  app.add_option("--timeout-ms", timeout_ms,
                 "a request without a reply in this time fails with EIO")
      ->check(CLI::Range(100, 600000));
  app.add_option("--udp-timeout-us", udp_timeout_us,
                 "GETATTR and LOOKUP to a server with a udp_port go over UDP first and over "
                 "TCP when no answer comes within this many microseconds (0: always TCP)")
      ->check(CLI::Range(0u, 10000000u));
  app.add_option("--attr-timeout", opts.attr_timeout,
                 "seconds the kernel may cache attributes and entries (0 = always ask)")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--read-ahead-kb", read_ahead_kb,
                 "kernel readahead of the mount in KiB (needs root; 0 keeps the kernel's)")
      ->check(CLI::Range(0u, 65536u));
  app.add_option("-o", fuse_opts, "extra FUSE mount options (comma separated)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn or error");
  CLI11_PARSE(app, argc, argv);
  if (stats) return PrintStats(mountpoint);
  if (config_path.empty()) {
    fmt::print(stderr,
               "sealfs-mount: --config is required\nRun with --help for more information.\n");
    return 2;
  }
  opts.entry_timeout = opts.attr_timeout;
  cache_opts.max_attrs = cache_opts.max_entries;
  cache_opts.max_long_entries = std::max(16u, cache_opts.max_entries / 8);
  if (bpf != "off") {
    if (Status s = BpfCache::HookAvailable(); !s.ok()) {
      if (bpf == "on") {
        fmt::print(stderr, "sealfs-mount: --bpf: {}\n", s.message());
        return 2;
      }
      fmt::print(stderr, "sealfs-mount: --bpf=auto: {}; using the kernel's attribute cache\n",
                 s.message());
      bpf = "off";
    }
  }
  if (bpf != "off") opts.attr_timeout = opts.entry_timeout = 0;  // see FuseFs::set_cache

  if (Status s = SetupLogging("sealfs-mount", log_level); !s.ok()) {
    fmt::print(stderr, "sealfs-mount: --log-level: {}\n", s.message());
    return 2;
  }
  Result<ClusterConfig> config = LoadClusterConfig(config_path);
  if (!config.ok()) {
    spdlog::error("{}", config.status().message());
    return 2;
  }
  std::chrono::milliseconds timeout(timeout_ms);

  // Fail fast, naming the server, if the cluster is not reachable. The
  // check runs before daemonizing, so the error reaches the terminal.
  {
    ClusterClient probe(*config, timeout);
    if (Status s = probe.PingAll(); !s.ok()) {
      spdlog::error("cannot mount {}: {}", mountpoint, s.message());
      return 1;
    }
  }

  FuseArgs args;
  args.storage = {"sealfs-mount", "-o", "fsname=sealfs,subtype=sealfs,default_permissions"};
  if (geteuid() == 0) args.storage.back() += ",allow_other";
  for (const std::string& o : fuse_opts) args.storage.insert(args.storage.end(), {"-o", o});
  fuse_args fargs = args.Make();
  std::error_code resolve_error;
  const std::string canonical = std::filesystem::canonical(mountpoint, resolve_error).string();

  // The client is attached after daemonizing: fork() keeps only the calling
  // thread, and the client runs an I/O thread.
  FuseFs fs(nullptr, opts);
  fuse_session* se = fuse_session_new(&fargs, FuseFs::Ops(), sizeof(fuse_lowlevel_ops), &fs);
  if (!se) {
    spdlog::error("cannot create the FUSE session (bad -o option?)");
    fuse_opt_free_args(&fargs);
    return 1;
  }
  if (fuse_set_signal_handlers(se) != 0 || fuse_session_mount(se, mountpoint.c_str()) != 0) {
    spdlog::error("cannot mount on {}", mountpoint);
    fuse_session_destroy(se);
    fuse_opt_free_args(&fargs);
    return 1;
  }
  fs.set_session(se);
  // The program is attached before daemonizing, so that a failure reaches
  // the terminal; the maps and the link are descriptors, which fork() keeps.
  std::unique_ptr<BpfCache> maps;
  if (bpf != "off") {
    std::string device = resolve_error ? "" : MountDevice(canonical);
    Result<std::unique_ptr<BpfCache>> attached =
        device.empty() ? Result<std::unique_ptr<BpfCache>>(
                             Status::Error(ENOENT, canonical + " is not in /proc/self/mountinfo"))
                       : BpfCache::Attach(fuse_session_fd(se), PinDir(device), cache_opts);
    if (!attached.ok()) {
      spdlog::error("--bpf: cannot attach the BPF cache to {}: {}", mountpoint,
                    attached.status().ToString());
      fuse_session_unmount(se);
      fuse_session_destroy(se);
      fuse_opt_free_args(&fargs);
      return 1;
    }
    maps = std::move(*attached);
  }
  int rc = fuse_daemonize(foreground);
  if (rc == 0) {
    ClusterClient client(*config, timeout, std::chrono::microseconds(udp_timeout_us));
    fs.set_client(&client);
    // Threads start here, after the fork.
    std::unique_ptr<KernelCache> kernel_cache;
    std::unique_ptr<CacheSessions> sessions;
    if (maps) {
      spdlog::info("--bpf: BPF cache attached, maps in {}", maps->pin_dir());
      kernel_cache = std::make_unique<KernelCache>(std::move(maps), config->RootIno());
      kernel_cache->set_session(se);
      sessions = std::make_unique<CacheSessions>(
          *config, RandomClientId(), std::chrono::milliseconds(lease_ms), kernel_cache.get());
      if (!sessions->WaitAllOpen(std::chrono::milliseconds(lease_ms)))
        spdlog::warn(
            "--bpf: not every server opened a cache session yet; caching from "
            "each once it does");
      fs.set_cache(kernel_cache.get(), sessions.get());
    }
    if (read_ahead_kb > 0 && !resolve_error && ServeInit(se))
      SetReadAhead(canonical, read_ahead_kb);
    fuse_loop_config* loop = fuse_loop_cfg_create();
    fuse_loop_cfg_set_max_threads(loop, 64);
    fuse_loop_cfg_set_idle_threads(loop, 16);
    rc = fuse_session_loop_mt(se, loop);
    fuse_loop_cfg_destroy(loop);
    fs.FinishUnflushed();
  }
  fuse_session_unmount(se);
  fuse_remove_signal_handlers(se);
  fuse_session_destroy(se);
  fuse_opt_free_args(&fargs);
  return rc == 0 ? 0 : 1;
}
