#include "xdp_bench_bed.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cstdio>
#include <stdexcept>

#include "cpu_usage.h"
#include "subprocess.h"

namespace sealfs::bench {
namespace fs = std::filesystem;
namespace {

// A new directory under `mnt` whose inode lives on server `home`.
Ino DirOn(const fs::path& mnt, int home) {
  for (int i = 0; i < 64; ++i) {
    const fs::path d = mnt / fmt::format("d{}_{}", home, i);
    fs::create_directory(d);
    struct stat st;
    if (::stat(d.c_str(), &st) == 0 && HomeOf(st.st_ino) == home) return st.st_ino;
  }
  throw std::runtime_error(fmt::format("no directory landed on server {}", home));
}

}  // namespace

XdpBenchBed::XdpBenchBed(const std::string& mode, int server_cpu, bool steer_receive)
    : mode_(mode), server_cpu_(server_cpu) {
  if (steer_receive) SteerReceive();
  if (mode_ == "native") {
    it::InNetns client(net_.client_ns());
    client_pass_.emplace(net_.client_if());
  }
  StartCluster();
}

void XdpBenchBed::SteerReceive() {
  // sysfs shows the interfaces of the namespace it was mounted in: `ip netns
  // exec` mounts the server namespace's.
  const std::string queue = fmt::format("/sys/class/net/{}/queues/rx-0/rps_cpus", net_.server_if());
  const it::CommandResult r =
      it::RunCommand({"/usr/sbin/ip", "netns", "exec", net_.server_ns(), "sh", "-c",
                      fmt::format("echo {:x} > {}", uint64_t{1} << server_cpu_, queue)},
                     std::chrono::seconds(10));
  if (r.status != 0) throw std::runtime_error("setting " + queue + ": " + r.output);
}

void XdpBenchBed::StartCluster() {
  it::InNetns in_server_ns(net_.server_ns());
  PinnedToCpu pinned(server_cpu_);  // the servers and the mount inherit it
  cluster_ = std::make_unique<it::LocalCluster>(
      it::ClusterOptions{.servers = 2,
                         .log_level = "warn",
                         .udp_fast_path = true,
                         .server_args = {{1, XdpArgs()}},
                         .address = it::NetnsPair::kServerAddress});
  const fs::path mnt = cluster_->AddMount().path();
  dir1_ = DirOn(mnt, 1);
  dir2_ = DirOn(mnt, 2);
}

std::vector<std::string> XdpBenchBed::XdpArgs() const {
  return {"--xdp", net_.server_if(), "--xdp-mode", mode_};
}

void XdpBenchBed::AttachXdp(bool attached) {
  if (attached != attached_) RestartServer1(attached);
}

void XdpBenchBed::RestartServer1(bool xdp_attached) {
  it::InNetns in_server_ns(net_.server_ns());
  PinnedToCpu pinned(server_cpu_);
  if (cluster_->StopServer(1) != 0) throw std::runtime_error("server 1 failed");
  cluster_->SetServerArgs(1, xdp_attached ? XdpArgs() : std::vector<std::string>{});
  cluster_->StartServer(1);
  attached_ = xdp_attached;
}

XdpBenchBed::~XdpBenchBed() {
  try {
    if (cluster_->StopServer(1) != 0) std::fprintf(stderr, "sealfs-xdpbench: server 1 failed\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sealfs-xdpbench: %s\n", e.what());
  }
}

}  // namespace sealfs::bench
