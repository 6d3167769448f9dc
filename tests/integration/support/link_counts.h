// Checks the link counts a client sees against the names it can find: a directory has
// 2 + its subdirectories, any other inode as many links as it has names in the tree.
#pragma once

#include <filesystem>
#include <string>

namespace sealfs::it {

// "" if every count matches; otherwise one line per inode whose count is wrong. Assumes no
// name outside root links to an inode inside it.
std::string LinkCountMismatches(const std::filesystem::path& root);

}  // namespace sealfs::it
