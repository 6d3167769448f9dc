// sealfs-mount: mounts a sealfs cluster with FUSE.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>

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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sealfs-mount: mount a sealfs cluster"};
  std::string config_path, mountpoint, log_level = "warn";
  std::vector<std::string> fuse_opts;
  bool foreground = false;
  int timeout_ms = 3000;
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
