// sealfs-server: serves one member of a sealfs cluster.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <filesystem>
#include <optional>
#include <thread>

#include "admin_gate.h"
#include "cache_registry.h"
#include "chunk_store.h"
#include "cluster_config.h"
#include "cluster_secret.h"
#include "logging.h"
#include "membership_keeper.h"
#include "meta_store.h"
#include "request_handler.h"
#include "rpc_server.h"
#include "server_core.h"
#include "udp_responder.h"
#include "xdp_answers.h"
#include "xdp_control.h"
#include "xdp_program.h"

using namespace sealfs;

namespace {
// Written once a run has granted a client cache lease.
constexpr char kCacheSessionsSeen[] = "cache_sessions_seen";
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "sealfs-server: one member of a sealfs cluster (metadata in LevelDB, data in chunk files)"};
  std::string config_path, data_dir, log_level = "info";
  int id = 0, workers = 8, timeout_ms = 3000;
  app.add_option("-c,--config", config_path, "cluster file (TOML)")->required();
  app.add_option("-i,--id", id, "this server's stable id in the cluster file")->required();
  app.add_option("-d,--data-dir", data_dir,
                 "state directory (default: data_dir from the cluster file)");
  app.add_option("--workers", workers, "request worker threads")->check(CLI::Range(1, 256));
  app.add_option("--peer-timeout-ms", timeout_ms, "timeout for calls to other servers")
      ->check(CLI::Range(100, 600000));
  app.add_option("--log-level", log_level, "trace, debug, info, warn or error");
  std::string xdp_interface, xdp_mode = "native", xdp_pin_dir;
  app.add_option("--xdp", xdp_interface,
                 "answer GETATTR/LOOKUP datagrams with an XDP program on this interface "
                 "(needs udp_port in the cluster file)");
  app.add_option("--xdp-mode", xdp_mode, "how the XDP program is attached: native or generic")
      ->check(CLI::IsMember({"native", "generic"}));
  app.add_option("--xdp-pin-dir", xdp_pin_dir,
                 "where the XDP program's maps are pinned, and where those a killed earlier run "
                 "left are looked for (default: /sys/fs/bpf/sealfs/server-<id>)")
      ->type_name("DIR");
  CLI11_PARSE(app, argc, argv);

  if (Status s = SetupLogging("sealfs-server", log_level); !s.ok()) {
    fmt::print(stderr, "sealfs-server: --log-level: {}\n", s.message());
    return 2;
  }
  Result<ClusterConfig> config = LoadClusterConfig(config_path);
  if (!config.ok()) {
    spdlog::error("{}", config.status().message());
    return 2;
  }
  // A server being removed may be missing from the file: its data
  // directory then says what it is.
  const ServerInfo* me = config->Find(static_cast<ServerId>(id));
  if (data_dir.empty() && me) data_dir = me->data_dir;
  if (data_dir.empty()) {
    if (me)
      spdlog::error("server {} has no data_dir in {} and no --data-dir was given", id, config_path);
    else
      spdlog::error("{}: no server with id {} (a server being removed starts with --data-dir)",
                    config_path, id);
    return 2;
  }
  if (xdp_pin_dir.empty()) xdp_pin_dir = XdpProgram::PinDir(static_cast<ServerId>(id));
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    spdlog::error("cannot create data directory {}: {}", data_dir, ec.message());
    return 2;
  }

  Result<std::unique_ptr<MetaStore>> meta =
      MetaStore::Open(data_dir + "/meta", static_cast<ServerId>(id));
  if (!meta.ok()) {
    spdlog::error("{}", meta.status().message());
    return 1;
  }
  // The membership: the cluster file's, or a newer one an earlier run took
  // from the loader; and the secret that lets this server take newer ones.
  Result<StartingMembership> start = ChooseStartingMembership(*config, **meta);
  if (!start.ok()) {
    spdlog::error("{}", start.status().message());
    return 1;
  }
  // A server being removed is listed only among those chunks move from.
  me = start->config.Find(id) ? start->config.Find(id) : start->config.FindSource(id);
  if (!me) {
    spdlog::error("membership version {} (in {} or {}) does not list server {}",
                  start->config.version, config_path, data_dir, id);
    return 1;
  }
  if (!xdp_interface.empty() && !me->udp_port) {
    spdlog::error("--xdp needs a udp_port for server {} in {}", id, config_path);
    return 2;
  }
  const ServerInfo self = *me;
  std::optional<ClusterSecret> secret;
  if (!config->secret_file.empty()) {
    Result<ClusterSecret> loaded = ClusterSecret::Load(config->secret_file);
    if (!loaded.ok()) {
      spdlog::error("{}", loaded.status().message());
      return 2;
    }
    secret = *loaded;
  } else {
    spdlog::warn("{} names no secret_file: this server takes no membership changes", config_path);
  }
  const uint64_t chunk_size = start->config.chunk_size;
  Result<std::unique_ptr<ChunkStore>> chunks = ChunkStore::Open(data_dir + "/chunks", chunk_size);
  if (!chunks.ok()) {
    spdlog::error("{}", chunks.status().message());
    return 1;
  }

  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  asio::io_context io;
  auto work = asio::make_work_guard(io);
  asio::thread_pool pool(static_cast<size_t>(workers));
  asio::thread_pool peer_pool(4);
  std::vector<std::thread> io_threads;
  for (int i = 0; i < 2; ++i) io_threads.emplace_back([&] { io.run(); });

  // Caching clients (sealfs-mount --bpf): the registry sees every commit.
  // A run that follows one which granted leases waits them out before it
  // acknowledges any change.
  MetaStore* store = meta->get();
  CacheRegistry::Options cache_opts;
  if (store->GetCounter(kCacheSessionsSeen).ok()) {
    cache_opts.grace = cache_opts.max_lease;
    spdlog::info("clients may still cache answers of the previous run: changes wait {} ms",
                 cache_opts.grace.count());
  }
  CacheRegistry cache(cache_opts, [store] {
    MetaStore::Batch b;
    b.PutCounter(kCacheSessionsSeen, 1);
    return store->Commit(&b);
  });
  // The UDP fast path: answers carry generations, and every commit deletes
  // the answers it changes before it is acknowledged. Without the XDP program
  // every datagram is answered in user space. The program comes and goes
  // with --xdp, the loader (ADMIN_XDP, admitted by the gate) and the stop;
  // XdpControl hands its map to XdpAnswers and takes it back.
  XdpProgram::RemoveEarlierRun(xdp_pin_dir);
  std::optional<XdpAnswers> xdp_answers;
  if (self.udp_port) xdp_answers.emplace(-1);
  XdpControl xdp(xdp_answers ? &*xdp_answers : nullptr, self.udp_port, xdp_pin_dir);
  // A server being removed answers no datagram (metadata_handoff.h).
  const bool leaving = start->config.Leaving(self.id);
  if (!xdp_interface.empty() && !leaving) {
    Result<std::string> attached =
        xdp.Attach(xdp_interface,
                   xdp_mode == "generic" ? XdpProgram::Mode::kGeneric : XdpProgram::Mode::kNative);
    if (!attached.ok())
      spdlog::error("XDP fast path: {}; GETATTR and LOOKUP datagrams are answered in user space",
                    attached.status().message());
  }
  AdminGate admin(secret ? &*secret : nullptr);
  store->SetCommitObserver([&cache, &xdp_answers](const MetaStore::Batch& b) {
    if (xdp_answers) xdp_answers->Committed(b.changed_inodes(), b.changed_entries());
    cache.Committed(b.changed_inodes(), b.changed_entries());
  });

  const uint64_t version = start->config.version;
  const ClusterConfig first = start->config;
  // Set once the server listens: what a server being removed stops before
  // its heir takes its metadata (metadata_handoff.h).
  std::optional<UdpResponder> udp;
  std::mutex leave_mu;
  auto on_leave = [&] {
    std::lock_guard lock(leave_mu);
    if (udp) udp->Stop();
    xdp.Stop();
    return cache.Close();
  };
  ServerCore core(std::move(*start), self.id, meta->get(), chunks->get(),
                  std::chrono::milliseconds(timeout_ms), secret ? &*secret : nullptr, on_leave);
  NamespaceService& ns = core.ns;
  if (self.id == first.RootServer()) {
    if (Status s = ns.EnsureRoot(first.RootIno()); !s.ok()) {
      spdlog::error("cannot create the root directory: {}", s.ToString());
      return 1;
    }
  }
  RequestHandler handler(&ns, meta->get(), chunks->get(), &core.participant, &core.coordinator,
                         &core.membership, &core.migrator, &core.handoff);
  handler.set_cache(&cache);
  handler.set_admin(&admin, &xdp);
  RpcServer server(io, pool, peer_pool, &handler);
  server.set_cache(&cache);
  {
    std::lock_guard lock(leave_mu);
    if (xdp_answers && !leaving) udp.emplace(io, &ns, &*xdp_answers);
  }
  Status listening = server.Listen(self.address, self.port);
  if (listening.ok() && udp) listening = udp->Listen(self.address, self.udp_port);
  if (!listening.ok()) {
    spdlog::error("{}", listening.message());
    work.reset();
    io.stop();
    for (auto& t : io_threads) t.join();
    return 1;
  }
  core.coordinator.ReleaseDirMoveLockOfEarlierRun();
  spdlog::info("server {} serving {}:{} (data in {}, membership version {}, {} inodes)", self.id,
               self.address, self.port, data_dir, version, (*meta)->inode_count());
  if (udp) spdlog::info("UDP fast path: GETATTR and LOOKUP answered on UDP port {}", self.udp_port);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("stopping on signal {}", sig);
  if (udp) udp->Stop();
  server.Stop();
  core.Stop();
  pool.join();
  peer_pool.join();
  work.reset();
  io.stop();
  for (auto& t : io_threads) t.join();
  xdp.Stop();  // detaches, unpins and logs the counters; no commit runs any more
  return 0;
}
