#include "file_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <system_error>

namespace sealfs::it {
namespace {

[[noreturn]] void Fail(const std::string& what, const std::filesystem::path& path = {}) {
  throw std::system_error(errno, std::generic_category(),
                          path.empty() ? what : what + " " + path.string());
}

}  // namespace

UniqueFd Open(const std::filesystem::path& path, int flags, mode_t mode) {
  UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC, mode));
  if (!fd) Fail("open", path);
  return fd;
}

void WriteFile(const std::filesystem::path& path, std::string_view data, mode_t mode) {
  auto fd = Open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  PwriteFull(fd.get(), data, 0);
  if (::close(fd.release()) != 0) Fail("close", path);
}

std::string ReadFile(const std::filesystem::path& path) {
  auto fd = Open(path, O_RDONLY);
  std::string out;
  char buf[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) Fail("read", path);
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

struct stat Stat(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) Fail("stat", path);
  return st;
}

struct stat Lstat(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) Fail("lstat", path);
  return st;
}

bool Exists(const std::filesystem::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

void PwriteFull(int fd, std::string_view data, off_t offset) {
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd, data.data(), data.size(), offset);
    if (n < 0) Fail("pwrite at offset " + std::to_string(offset));
    if (n == 0) throw std::runtime_error("pwrite wrote nothing");
    data.remove_prefix(static_cast<size_t>(n));
    offset += n;
  }
}

std::string PreadFull(int fd, size_t size, off_t offset) {
  std::string out(size, '\0');
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out.data() + done, size - done, offset + done);
    if (n < 0) Fail("pread at offset " + std::to_string(offset + done));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

std::vector<std::string> ListDir(const std::filesystem::path& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) Fail("opendir", dir);
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) {
    errno = err;
    Fail("readdir", dir);
  }
  return names;
}

uint64_t Hash(std::string_view data) { return XXH3_64bits(data.data(), data.size()); }

std::string RandomBytes(std::mt19937_64& rng, size_t size) {
  std::string out(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    const uint64_t v = rng();
    for (size_t b = 0; b < 8 && i + b < size; ++b) out[i + b] = static_cast<char>(v >> (8 * b));
  }
  return out;
}

}  // namespace sealfs::it
