#include "netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "janitor.h"

namespace sealfs::it {

CommandResult Ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/sbin/ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, std::chrono::seconds(10));
}

void MustIp(const std::vector<std::string>& args) {
  CommandResult r = Ip(args);
  if (r.status != 0) {
    std::string cmd = "ip";
    for (const auto& a : args) cmd += " " + a;
    throw std::runtime_error(cmd + " failed: " + r.output);
  }
}

Netns::Netns(std::string name) : name_(std::move(name)) {
  Janitor::Get().TrackNetns(name_);
  try {
    MustIp({"netns", "add", name_});
  } catch (...) {
    Janitor::Get().ForgetNetns(name_);
    throw;
  }
}

Netns::~Netns() {
  CommandResult r = Ip({"netns", "del", name_});
  if (r.status != 0 && r.output.find("No such file") == std::string::npos)
    std::fprintf(stderr, "ip netns del %s: %s\n", name_.c_str(), r.output.c_str());
  else
    Janitor::Get().ForgetNetns(name_);
}

void AddVethPair(const VethEnd& a, const VethEnd& b) {
  MustIp({"link", "add", a.interface, "netns", a.netns, "type", "veth", "peer", "name", b.interface,
          "netns", b.netns});
  for (const VethEnd& end : {a, b}) {
    MustIp({"-n", end.netns, "addr", "add", end.address, "dev", end.interface});
    MustIp({"-n", end.netns, "link", "set", "lo", "up"});
    MustIp({"-n", end.netns, "link", "set", end.interface, "up"});
  }
}

InNetns::InNetns(const std::string& ns)
    : original_(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
  if (!original_) throw std::runtime_error(std::string("open own netns: ") + std::strerror(errno));
  UniqueFd target(::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC));
  if (!target) throw std::runtime_error("open netns " + ns + ": " + std::strerror(errno));
  if (::setns(target.get(), CLONE_NEWNET) != 0)
    throw std::runtime_error("setns " + ns + ": " + std::strerror(errno));
}

InNetns::~InNetns() {
  if (::setns(original_.get(), CLONE_NEWNET) != 0)
    std::fprintf(stderr, "setns back: %s\n", std::strerror(errno));
}

}  // namespace sealfs::it
