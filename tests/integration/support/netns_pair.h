// Two network namespaces of the test's own joined by a veth pair, for tests
// that need real traffic through an interface (the XDP fast path): the
// "server" end has 198.18.0.1/24, the "client" end 198.18.0.2/24 (the range
// reserved for benchmarks). Both namespaces, and with them the veth pair, are
// deleted on destruction. Needs root.
#pragma once

#include <string>

#include "unique_fd.h"

namespace sealfs::it {

class NetnsPair {
 public:
  static constexpr char kServerAddress[] = "198.18.0.1";
  static constexpr char kClientAddress[] = "198.18.0.2";

  // Throws (having removed whatever it made) if a step fails.
  NetnsPair();
  ~NetnsPair();
  NetnsPair(const NetnsPair&) = delete;
  NetnsPair& operator=(const NetnsPair&) = delete;

  const std::string& server_ns() const { return server_ns_; }
  const std::string& client_ns() const { return client_ns_; }
  const std::string& server_if() const { return server_if_; }

 private:
  void Remove();

  std::string server_ns_, client_ns_, server_if_, client_if_;
};

// Moves the calling thread into the named network namespace (ip netns) until
// destruction; children it starts meanwhile are born there, sockets it opens
// stay there.
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
