// A comparable description of everything below a directory: each entry's type, mode,
// owner, size, link count, inode, mtime, content hash, symlink target and user xattrs.
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace sealfs::it {

// Relative path -> description of that entry (the root itself is "").
using TreeSnapshot = std::map<std::string, std::string>;

TreeSnapshot SnapshotTree(const std::filesystem::path& root);

// "" if equal; otherwise one line per entry that is missing, extra or different.
std::string DescribeDifferences(const TreeSnapshot& expected, const TreeSnapshot& actual);

}  // namespace sealfs::it
