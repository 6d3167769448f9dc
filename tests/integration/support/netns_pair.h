// Two network namespaces of the test's own joined by a veth pair, for tests
// that need real traffic through an interface (the XDP fast path): the
// "server" end has 198.18.0.1/24, the "client" end 198.18.0.2/24 (the range
// reserved for benchmarks). Both namespaces, and with them the veth pair, are
// deleted on destruction. Needs root.
#pragma once

#include <string>

#include "netns.h"

namespace sealfs::it {

class NetnsPair {
 public:
  static constexpr char kServerAddress[] = "198.18.0.1";
  static constexpr char kClientAddress[] = "198.18.0.2";

  // Throws (having removed whatever it made) if a step fails.
  NetnsPair();

  const std::string& server_ns() const { return server_ns_.name(); }
  const std::string& client_ns() const { return client_ns_.name(); }
  const std::string& server_if() const { return server_if_; }
  const std::string& client_if() const { return client_if_; }

 private:
  Netns server_ns_, client_ns_;
  std::string server_if_, client_if_;
};

}  // namespace sealfs::it
