// Reads the kernel's mount table without touching the mounted file systems, so checking a
// FUSE mount whose daemon hangs or died cannot block.
#pragma once

#include <filesystem>

namespace sealfs::it {

// True if path (absolute, normalized) is currently a mount point in this mount namespace.
bool IsMountPoint(const std::filesystem::path& path);

}  // namespace sealfs::it
