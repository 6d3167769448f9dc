// The error text of a failed system call, naming the call and the path.
#pragma once

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace sealfs::bench {

// "create /mnt/x/f0000001: No space left on device", from the current errno.
inline std::string SysError(const std::string& call, const std::string& path) {
  return fmt::format("{} {}: {}", call, path, std::strerror(errno));
}

}  // namespace sealfs::bench
