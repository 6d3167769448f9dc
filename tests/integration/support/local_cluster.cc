#include "local_cluster.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "binaries.h"
#include "log_tail.h"
#include "tcp.h"

namespace sealfs::it {
namespace {

constexpr auto kStopTimeout = std::chrono::seconds(15);
constexpr auto kFsckTimeout = std::chrono::seconds(120);

// Where clusters keep their state: $SEALFS_TEST_TMPDIR, else /dev/shm. On tmpfs the servers'
// fsyncs cost nothing, which keeps tests that make 100,000 entries cheap; data acknowledged
// before a kill -9 still has to survive, as it lives in the page cache either way.
std::filesystem::path ClusterBaseDir() {
  if (const char* dir = std::getenv("SEALFS_TEST_TMPDIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  if (std::filesystem::is_directory("/dev/shm")) return "/dev/shm";
  return std::filesystem::temp_directory_path();
}

// "<pid>-<n>" for the n-th cluster of this process: names its namespaces and pin directory.
std::string NextClusterTag() {
  static std::atomic<int> clusters{0};
  return std::to_string(::getpid()) + "-" + std::to_string(++clusters);
}

}  // namespace

LocalCluster::LocalCluster(ClusterOptions options)
    : options_(std::move(options)),
      xdp_mode_(XdpModeFromEnv()),
      tag_(NextClusterTag()),
      temp_(ClusterBaseDir()),
      xdp_pins_(tag_) {
  if (xdp_mode_) {
    options_.udp_fast_path = true;  // --xdp needs a udp_port
    net_ = std::make_unique<ClusterNet>(tag_, options_.servers, *xdp_mode_);
  }
  file_.chunk_size = options_.chunk_size;
  // The cluster secret, made as an operator makes it.
  file_.secret_file = secret_path();
  CommandResult secret = RunCommand(
      {BinaryPath("sealfs-loader").string(), "secret", "new", file_.secret_file.string()},
      std::chrono::seconds(10));
  if (secret.status != 0) throw std::runtime_error("sealfs-loader secret new: " + secret.output);
  // With the fast path, the second half of the ports are the UDP ones. In XDP mode every
  // server has its namespace's ports to itself; ports free on loopback do as well as any.
  const auto ports = PickFreeLoopbackPorts(options_.servers * (options_.udp_fast_path ? 2 : 1));
  for (int id = 1; id <= options_.servers; ++id) {
    file_.servers.push_back(
        {.id = id,
         .address = net_ ? ClusterNet::ServerAddress(id) : options_.address,
         .port = ports[id - 1],
         .data_dir = dir() / ("s" + std::to_string(id)),
         .udp_port = options_.udp_fast_path ? ports[options_.servers + id - 1] : uint16_t{0}});
  }
  config_path_ = dir() / "cluster.toml";
  file_.Write(config_path_);
  for (const auto& spec : file_.servers) AddServerProcess(spec);
  if (net_) in_client_ns_ = std::make_unique<InNetns>(net_->client_ns());
  StartAllServers();
}

LocalCluster::~LocalCluster() {
  // Clients first, while the servers can still answer them.
  for (auto& m : mounts_) {
    try {
      m->Unmount();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "LocalCluster teardown: %s\n", e.what());
    }
  }
  mounts_.clear();
  for (auto& s : servers_) {
    try {
      s->Kill();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "LocalCluster teardown: %s\n", e.what());
    }
  }
}

FuseMount& LocalCluster::AddMount(MountOptions options) {
  const auto n = std::to_string(mounts_.size() + 1);
  mounts_.push_back(std::make_unique<FuseMount>(
      config_path_, dir() / ("mnt" + n), dir() / ("mount" + n + ".log"), std::move(options)));
  mounts_.back()->Mount();
  return *mounts_.back();
}

ServerProcess& LocalCluster::server(int id) {
  if (id < 1 || id > server_count()) throw std::out_of_range("no server " + std::to_string(id));
  return *servers_[id - 1];
}

const std::string& LocalCluster::address(int id) const {
  return servers_.at(id - 1)->spec().address;
}
uint16_t LocalCluster::port(int id) const { return servers_.at(id - 1)->spec().port; }
uint16_t LocalCluster::udp_port(int id) const { return servers_.at(id - 1)->spec().udp_port; }

void LocalCluster::KillServer(int id) { server(id).Kill(); }

ExitStatus LocalCluster::StopServer(int id) { return server(id).Stop(kStopTimeout); }

void LocalCluster::StartServer(int id) {
  server(id).Start(options_.ready_timeout);
  // A server keeps its pins only if its program attached, and pins before it listens.
  if (xdp_mode_ && !std::filesystem::exists(xdp_pin_dir(id) / "answers")) {
    throw std::runtime_error("sealfs-server " + std::to_string(id) + " runs without its XDP " +
                             "program (SEALFS_TEST_XDP=" + XdpModeName(*xdp_mode_) + ")\n" +
                             LogTail(server(id).log(), 50));
  }
}

void LocalCluster::RestartServer(int id) {
  StopServer(id);
  StartServer(id);
}

bool LocalCluster::ServerRunning(int id) { return server(id).Running(); }

pid_t LocalCluster::ServerPid(int id) { return server(id).pid(); }

void LocalCluster::SetServerArgs(int id, std::vector<std::string> args) {
  options_.server_args[id] = std::move(args);
  server(id).set_extra_args(ServerArgs(id));
}

std::vector<std::string> LocalCluster::ServerArgs(int id) const {
  std::vector<std::string> args = {"--xdp-pin-dir", xdp_pin_dir(id).string()};
  if (net_) {
    const auto xdp_args = net_->ServerXdpArgs();
    args.insert(args.end(), xdp_args.begin(), xdp_args.end());
  }
  if (auto more = options_.server_args.find(id); more != options_.server_args.end())
    args.insert(args.end(), more->second.begin(), more->second.end());
  return args;
}

void LocalCluster::AddServerProcess(const ServerSpec& spec) {
  std::filesystem::create_directories(spec.data_dir);
  servers_.push_back(std::make_unique<ServerProcess>(
      spec, config_path_, dir() / ("server" + std::to_string(spec.id) + ".log"), options_.log_level,
      ServerArgs(spec.id), net_ ? net_->server_ns(spec.id) : ""));
}

int LocalCluster::AddServer() {
  if (net_) throw std::runtime_error("LocalCluster::AddServer: not with SEALFS_TEST_XDP");
  const int id = server_count() + 1;
  const auto ports = PickFreeLoopbackPorts(options_.udp_fast_path ? 2 : 1);
  file_.servers.push_back({.id = id,
                           .address = options_.address,
                           .port = ports[0],
                           .data_dir = dir() / ("s" + std::to_string(id)),
                           .udp_port = options_.udp_fast_path ? ports[1] : uint16_t{0}});
  file_.Write(config_path_);
  AddServerProcess(file_.servers.back());
  StartServer(id);
  return id;
}

void LocalCluster::RemoveFromFile(int id) {
  std::erase_if(file_.servers, [id](const ServerSpec& s) { return s.id == id; });
  file_.Write(config_path_);
}

std::filesystem::path LocalCluster::FileWithout(int id) const {
  ClusterFile without = file_;
  std::erase_if(without.servers, [id](const ServerSpec& s) { return s.id == id; });
  const auto path = dir() / ("cluster-without-" + std::to_string(id) + ".toml");
  without.Write(path);
  return path;
}

void LocalCluster::StopAllServers() {
  for (int id = 1; id <= server_count(); ++id) {
    if (server(id).Running()) StopServer(id);
  }
}

void LocalCluster::StartAllServers() {
  for (int id = 1; id <= server_count(); ++id) StartServer(id);
}

void LocalCluster::UnmountAll() {
  for (auto& m : mounts_) m->Unmount();
}

CommandResult LocalCluster::Loader(const std::vector<std::string>& args,
                                   std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {BinaryPath("sealfs-loader").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, timeout);
}

CommandResult LocalCluster::Fsck(bool repair, const std::vector<std::string>& options) {
  std::vector<std::string> argv = {BinaryPath("sealfs-fsck").string(), "--config",
                                   config_path_.string(), "--xdp-pin-root",
                                   xdp_pins_.path().string()};
  if (repair) {
    argv.push_back("--repair");
    // sealfs-fsck detaches killed servers' programs only in its own network namespace.
    for (int id = 1; net_ && id <= server_count(); ++id) {
      if (!server(id).Running()) net_->DetachXdp(id);
    }
  }
  argv.insert(argv.end(), options.begin(), options.end());
  return RunCommand(argv, kFsckTimeout);
}

std::string LocalCluster::LogTails(size_t lines_per_log) const {
  std::string out;
  for (const auto& s : servers_) out += LogTail(s->log(), lines_per_log);
  for (const auto& m : mounts_) out += LogTail(m->log(), lines_per_log);
  return out;
}

}  // namespace sealfs::it
