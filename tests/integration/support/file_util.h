// Small file helpers for the tests. They throw std::system_error on failure, which fails
// the running test with the call, the path and the errno in the message.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "unique_fd.h"

namespace sealfs::it {

UniqueFd Open(const std::filesystem::path& path, int flags, mode_t mode = 0644);
// Creates or truncates path and writes data.
void WriteFile(const std::filesystem::path& path, std::string_view data, mode_t mode = 0644);
std::string ReadFile(const std::filesystem::path& path);
struct stat Stat(const std::filesystem::path& path);
struct stat Lstat(const std::filesystem::path& path);
bool Exists(const std::filesystem::path& path);  // lstat succeeds

// pwrite/pread that loop over short transfers; PreadFull stops early only at end of file.
void PwriteFull(int fd, std::string_view data, off_t offset);
std::string PreadFull(int fd, size_t size, off_t offset);

// Entry names as returned by readdir(3), without "." and "..", in directory order.
std::vector<std::string> ListDir(const std::filesystem::path& dir);

uint64_t Hash(std::string_view data);
std::string RandomBytes(std::mt19937_64& rng, size_t size);

}  // namespace sealfs::it
