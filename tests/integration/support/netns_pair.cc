#include "netns_pair.h"

#include <unistd.h>

namespace sealfs::it {
namespace {

std::string ProcessTag() { return std::to_string(::getpid()); }

}  // namespace

NetnsPair::NetnsPair()
    : server_ns_("sealfs-test-" + ProcessTag() + "-srv"),
      client_ns_("sealfs-test-" + ProcessTag() + "-cli"),
      server_if_("sfs" + ProcessTag()),  // at most 15 bytes: pids have at most 7 digits
      client_if_("sfc" + ProcessTag()) {
  AddVethPair({server_ns_.name(), server_if_, std::string(kServerAddress) + "/24"},
              {client_ns_.name(), client_if_, std::string(kClientAddress) + "/24"});
}

}  // namespace sealfs::it
