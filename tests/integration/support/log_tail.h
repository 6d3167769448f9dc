// The end of a log file, for failure reports.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace sealfs::it {

// The last max_lines lines of path, headed by its name ("" if it does not exist).
std::string LogTail(const std::filesystem::path& path, size_t max_lines);

}  // namespace sealfs::it
