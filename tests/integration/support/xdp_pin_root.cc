#include "xdp_pin_root.h"

#include <string>

#include "janitor.h"
#include "temp_dir.h"

namespace sealfs::it {

// The name starts with "sealfs-it-", as RemoveTree requires.
XdpPinRoot::XdpPinRoot(std::string_view tag)
    : path_("/sys/fs/bpf/sealfs-it-xdp-" + std::string(tag)) {
  Janitor::Get().TrackDir(path_);
}

XdpPinRoot::~XdpPinRoot() {
  RemoveTree(path_);
  Janitor::Get().ForgetDir(path_);
}

std::filesystem::path XdpPinRoot::ServerDir(int id) const {
  return path_ / ("server-" + std::to_string(id));
}

}  // namespace sealfs::it
