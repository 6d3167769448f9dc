// Network namespaces of the test's own (`ip netns`), veth pairs between them,
// and moving a thread into one. Shared by NetnsPair and ClusterNet. Needs root
// and `ip` (iproute2).
#pragma once

#include <string>
#include <vector>

#include "subprocess.h"
#include "unique_fd.h"

namespace sealfs::it {

// Runs `ip ARGS...` (10 s at most).
CommandResult Ip(const std::vector<std::string>& args);
// The same; throws, naming the command and its output, if it fails.
void MustIp(const std::vector<std::string>& args);

// A named network namespace (`ip netns add`), deleted on destruction, and by
// the Janitor if the test process dies first. Deleting it deletes the
// interfaces in it, and with a veth end its peer.
class Netns {
 public:
  explicit Netns(std::string name);
  ~Netns();
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;

  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// One end of a veth pair: its namespace, interface name and address with
// prefix length ("198.18.1.2/24").
struct VethEnd {
  std::string netns;
  std::string interface;
  std::string address;
};

// Creates the pair, gives each end its address and brings both ends, and the
// loopback interfaces of both namespaces, up.
void AddVethPair(const VethEnd& a, const VethEnd& b);

// Moves the calling thread into the named network namespace (ip netns) until
// destruction; children it starts meanwhile are born there, sockets it opens
// stay there. Destroy it on the thread that made it.
class InNetns {
 public:
  explicit InNetns(const std::string& ns);
  ~InNetns();
  InNetns(const InNetns&) = delete;
  InNetns& operator=(const InNetns&) = delete;

 private:
  UniqueFd original_;
};

}  // namespace sealfs::it
