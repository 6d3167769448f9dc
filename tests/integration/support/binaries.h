// Where the sealfs binaries under test live: $SEALFS_BIN_DIR if set, else the build's bin/.
#pragma once

#include <filesystem>
#include <string_view>

namespace sealfs::it {

// Absolute path of the named binary (e.g. "sealfs-server"); throws if it does not exist.
std::filesystem::path BinaryPath(std::string_view name);

}  // namespace sealfs::it
