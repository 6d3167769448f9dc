#include "cluster_net.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace sealfs::it {
namespace {

std::string PeerInterface(int id) { return "peer" + std::to_string(id); }
std::string PeerAddress(int id) { return "198.18." + std::to_string(id) + ".1"; }

}  // namespace

std::optional<XdpMode> XdpModeFromEnv() {
  const char* env = std::getenv("SEALFS_TEST_XDP");
  if (env == nullptr || *env == '\0') return std::nullopt;
  const std::string value = env;
  std::optional<XdpMode> mode;
  if (value == "generic") mode = XdpMode::kGeneric;
  if (value == "native") mode = XdpMode::kNative;
  if (!mode) {
    throw std::runtime_error("SEALFS_TEST_XDP=" + value + ": must be generic, native or unset");
  }
  if (::geteuid() != 0) {
    throw std::runtime_error("SEALFS_TEST_XDP=" + value +
                             " needs root (network namespaces, veth pairs, XDP programs)");
  }
  return mode;
}

const char* XdpModeName(XdpMode mode) { return mode == XdpMode::kNative ? "native" : "generic"; }

ClusterNet::ClusterNet(std::string_view tag, int servers, XdpMode mode)
    : mode_(mode), client_ns_("sealfs-it-" + std::string(tag) + "-client") {
  MustIp({"netns", "exec", client_ns(), "/usr/sbin/sysctl", "-qw", "net.ipv4.ip_forward=1"});
  for (int id = 1; id <= servers; ++id) {
    server_ns_.push_back(
        std::make_unique<Netns>("sealfs-it-" + std::string(tag) + "-server" + std::to_string(id)));
    AddVethPair({server_ns(id), kServerInterface, ServerAddress(id) + "/24"},
                {client_ns(), PeerInterface(id), PeerAddress(id) + "/24"});
    MustIp({"-n", server_ns(id), "route", "add", "default", "via", PeerAddress(id)});
    if (mode_ == XdpMode::kNative) {
      InNetns in_client_ns(client_ns());
      peer_passes_.push_back(std::make_unique<NativeXdpPass>(PeerInterface(id)));
    }
  }
}

std::string ClusterNet::ServerAddress(int id) {
  if (id < 1 || id > 255) throw std::out_of_range("no address for server " + std::to_string(id));
  return "198.18." + std::to_string(id) + ".2";
}

std::vector<std::string> ClusterNet::ServerXdpArgs() const {
  return {"--xdp", kServerInterface, "--xdp-mode", XdpModeName(mode_)};
}

void ClusterNet::DetachXdp(int id) const {
  MustIp({"-n", server_ns(id), "link", "set", "dev", kServerInterface,
          mode_ == XdpMode::kNative ? "xdpdrv" : "xdpgeneric", "off"});
}

}  // namespace sealfs::it
