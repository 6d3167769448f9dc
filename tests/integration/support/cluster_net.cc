#include "cluster_net.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "unique_fd.h"

namespace sealfs::it {
namespace {

std::string PeerInterface(int id) { return "peer" + std::to_string(id); }
std::string PeerAddress(int id) { return "198.18." + std::to_string(id) + ".1"; }

// In native mode a veth drops the frames its peer sends with XDP_TX (the server's answers)
// unless the receiving end runs NAPI, which it does while it has an XDP program of its own
// (or GRO is switched on with ethtool, which the test machines need not have). So each
// client-side peer gets the smallest XDP program there is, `return XDP_PASS`, loaded from
// two instructions: no object file to build, and it changes nothing the client sees. It
// stays attached until the veth is deleted with the namespace.
void AttachPassProgram(const std::string& netns, const std::string& interface) {
  InNetns in_netns(netns);
  const bpf_insn pass[] = {
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS},  // r0 = PASS
      {.code = BPF_JMP | BPF_EXIT},                                                  // return r0
  };
  UniqueFd prog(bpf_prog_load(BPF_PROG_TYPE_XDP, "sealfs_it_pass", "GPL", pass, 2, nullptr));
  if (!prog)
    throw std::runtime_error(std::string("loading an XDP_PASS program: ") + std::strerror(errno));
  const int ifindex = static_cast<int>(if_nametoindex(interface.c_str()));
  if (ifindex == 0) throw std::runtime_error("no interface " + interface + " in " + netns);
  if (int err = bpf_xdp_attach(ifindex, prog.get(), XDP_FLAGS_DRV_MODE, nullptr); err != 0) {
    throw std::runtime_error("attaching an XDP_PASS program to " + interface + ": " +
                             std::strerror(-err));
  }
}

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
    if (mode_ == XdpMode::kNative) AttachPassProgram(client_ns(), PeerInterface(id));
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
