// The directory under /sys/fs/bpf where one test cluster's servers pin their XDP maps
// (sealfs-server --xdp-pin-dir <root>/server-<id>, sealfs-fsck --xdp-pin-root <root>), so
// that test servers never touch a real server's pins (/sys/fs/bpf/sealfs/server-<id>) nor
// another test's. The servers make it when they pin. It is removed on destruction, with the
// pins servers killed with kill -9 left behind, and by the Janitor if the test process dies.
#pragma once

#include <filesystem>
#include <string_view>

namespace sealfs::it {

class XdpPinRoot {
 public:
  // /sys/fs/bpf/sealfs-it-xdp-<tag>; `tag` makes it unique on the machine (see LocalCluster).
  explicit XdpPinRoot(std::string_view tag);
  ~XdpPinRoot();
  XdpPinRoot(const XdpPinRoot&) = delete;
  XdpPinRoot& operator=(const XdpPinRoot&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Where server `id` pins: path()/server-<id>.
  std::filesystem::path ServerDir(int id) const;

 private:
  std::filesystem::path path_;
};

}  // namespace sealfs::it
