// sealfs-mount: mounts a sealfs cluster with FUSE.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cluster_client.h"
#include "fuse_fs.h"
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
void SetReadAhead(const std::string& canonical, unsigned kib) {
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
  unsigned read_ahead_kb = 4096;
  MountOptions opts;
  app.add_option("mountpoint", mountpoint, "directory to mount on")->required();
  app.add_option("-c,--config", config_path, "cluster file (TOML)")->required();
  app.add_flag("-f,--foreground", foreground, "stay in the foreground until unmounted");
  app.add_option("--timeout-ms", timeout_ms,
                 "a request without a reply in this time fails with EIO")
      ->check(CLI::Range(100, 600000));
  app.add_option("--attr-timeout", opts.attr_timeout,
                 "seconds the kernel may cache attributes and entries (0 = always ask)")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--read-ahead-kb", read_ahead_kb,
                 "kernel readahead of the mount in KiB (needs root; 0 keeps the kernel's)")
      ->check(CLI::Range(0u, 65536u));
  app.add_option("-o", fuse_opts, "extra FUSE mount options (comma separated)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn or error");
  CLI11_PARSE(app, argc, argv);
  opts.entry_timeout = opts.attr_timeout;

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
  int rc = fuse_daemonize(foreground);
  if (rc == 0) {
    ClusterClient client(*config, timeout);
    fs.set_client(&client);
    if (read_ahead_kb > 0 && !resolve_error && ServeInit(se))
      SetReadAhead(canonical, read_ahead_kb);
    fuse_loop_config* loop = fuse_loop_cfg_create();
    fuse_loop_cfg_set_max_threads(loop, 64);
    fuse_loop_cfg_set_idle_threads(loop, 16);
    rc = fuse_session_loop_mt(se, loop);
    fuse_loop_cfg_destroy(loop);
  }
  fuse_session_unmount(se);
  fuse_remove_signal_handlers(se);
  fuse_session_destroy(se);
  fuse_opt_free_args(&fargs);
  return rc == 0 ? 0 : 1;
}
