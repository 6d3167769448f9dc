#include "native_xdp_pass.h"

#include <bpf/bpf.h>
#include <fmt/format.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace sealfs::it {

NativeXdpPass::NativeXdpPass(const std::string& interface) {
  const unsigned ifindex = ::if_nametoindex(interface.c_str());
  if (ifindex == 0)
    throw std::runtime_error(fmt::format("interface {}: {}", interface, std::strerror(errno)));
  // r0 = XDP_PASS; exit
  const bpf_insn pass[] = {
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS},
      {.code = BPF_JMP | BPF_EXIT},
  };
  program_ = UniqueFd(bpf_prog_load(BPF_PROG_TYPE_XDP, "xdp_pass", "GPL", pass, 2, nullptr));
  if (!program_)
    throw std::runtime_error(fmt::format("loading an XDP_PASS program: {}", std::strerror(errno)));
  LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = XDP_FLAGS_DRV_MODE);
  link_ = UniqueFd(bpf_link_create(program_.get(), static_cast<int>(ifindex), BPF_XDP, &opts));
  if (!link_)
    throw std::runtime_error(fmt::format("attaching an XDP_PASS program to {} in native mode: {}",
                                         interface, std::strerror(errno)));
}

}  // namespace sealfs::it
