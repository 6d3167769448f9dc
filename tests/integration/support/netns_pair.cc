#include "netns_pair.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "janitor.h"
#include "subprocess.h"

namespace sealfs::it {
namespace {

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

void Enter(int fd, const std::string& what) {
  if (::setns(fd, CLONE_NEWNET) != 0)
    throw std::runtime_error("setns " + what + ": " + std::strerror(errno));
}

}  // namespace

NetnsPair::NetnsPair() {
  const std::string id = std::to_string(::getpid());
  server_ns_ = "sealfs-test-" + id + "-srv";
  client_ns_ = "sealfs-test-" + id + "-cli";
  server_if_ = "sfs" + id;  // at most 15 bytes: pids have at most 7 digits
  client_if_ = "sfc" + id;
  try {
    for (const std::string& ns : {server_ns_, client_ns_}) {
      Janitor::Get().TrackNetns(ns);
      MustIp({"netns", "add", ns});
    }
    MustIp({"link", "add", server_if_, "netns", server_ns_, "type", "veth", "peer", "name",
            client_if_, "netns", client_ns_});
    MustIp(
        {"-n", server_ns_, "addr", "add", std::string(kServerAddress) + "/24", "dev", server_if_});
    MustIp(
        {"-n", client_ns_, "addr", "add", std::string(kClientAddress) + "/24", "dev", client_if_});
    for (const auto& [ns, dev] : {std::pair{server_ns_, server_if_}, {client_ns_, client_if_}}) {
      MustIp({"-n", ns, "link", "set", "lo", "up"});
      MustIp({"-n", ns, "link", "set", dev, "up"});
    }
  } catch (...) {
    Remove();
    throw;
  }
}

NetnsPair::~NetnsPair() { Remove(); }

void NetnsPair::Remove() {
  // Deleting a namespace deletes the veth end in it, and with it the pair.
  for (const std::string& ns : {server_ns_, client_ns_}) {
    CommandResult r = Ip({"netns", "del", ns});
    if (r.status != 0 && r.output.find("No such file") == std::string::npos)
      std::fprintf(stderr, "ip netns del %s: %s\n", ns.c_str(), r.output.c_str());
    else
      Janitor::Get().ForgetNetns(ns);
  }
}

InNetns::InNetns(const std::string& ns)
    : original_(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
  if (!original_) throw std::runtime_error(std::string("open own netns: ") + std::strerror(errno));
  UniqueFd target(::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC));
  if (!target) throw std::runtime_error("open netns " + ns + ": " + std::strerror(errno));
  Enter(target.get(), ns);
}

InNetns::~InNetns() {
  if (::setns(original_.get(), CLONE_NEWNET) != 0)
    std::fprintf(stderr, "setns back: %s\n", std::strerror(errno));
}

}  // namespace sealfs::it
