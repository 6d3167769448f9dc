// Where the sealfs binaries under test live: $SEALFS_BIN_DIR if set, else the build's bin/.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace sealfs::it {

// Absolute path of the named binary (e.g. "sealfs-server"); throws if it does not exist.
std::filesystem::path BinaryPath(std::string_view name);

// $SEALFS_TEST_MOUNT_ARGS split at whitespace (empty if unset): extra arguments appended to
// every sealfs-mount command line the tests start, e.g. to run the whole suite with a mount
// option on.
std::vector<std::string> ExtraMountArgs();

}  // namespace sealfs::it
