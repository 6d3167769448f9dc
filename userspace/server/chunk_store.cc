#include "chunk_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>

#include "unique_fd.h"

namespace sealfs {
namespace {

Status Errno(const std::string& what) {
  int e = errno;
  return Status::Error(e, fmt::format("{}: {}", what, std::strerror(e)));
}

int64_t Blocks(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? st.st_blocks : 0;
}

// Lists the chunk indexes present in an inode directory.
template <class Fn>
void ListChunks(const std::string& dir, Fn fn) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) return;
  while (dirent* e = ::readdir(d.get())) {
    if (e->d_name[0] == '.') continue;
    char* end = nullptr;
    uint64_t idx = std::strtoull(e->d_name, &end, 10);
    if (*end == '\0') fn(idx, std::string(dir) + "/" + e->d_name);
  }
}

// The up to `max` smallest numbers >= from among the entry names of `dir`
// (in `base`; other names are skipped), with their names. *more is set when
// some were left out.
std::map<uint64_t, std::string> SmallestNames(const std::string& dir, int base, uint64_t from,
                                              size_t max, bool* more) {
  std::map<uint64_t, std::string> names;
  *more = false;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) return names;
  while (dirent* e = ::readdir(d.get())) {
    if (e->d_name[0] == '.') continue;
    char* end = nullptr;
    uint64_t n = std::strtoull(e->d_name, &end, base);
    // UINT64_MAX (or an overflowing name) would leave no key to continue from.
    if (*end != '\0' || n == UINT64_MAX || n < from) continue;
    names.emplace(n, e->d_name);
    if (names.size() > max) {
      names.erase(std::prev(names.end()));
      *more = true;
    }
  }
  return names;
}

}  // namespace

Result<std::unique_ptr<ChunkStore>> ChunkStore::Open(const std::string& dir, uint64_t chunk_size) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Error(ec.value(), fmt::format("cannot create {}: {}", dir, ec.message()));
  return std::unique_ptr<ChunkStore>(new ChunkStore(dir, chunk_size));
}

std::string ChunkStore::InodeDir(Ino ino) const { return fmt::format("{}/{:016x}", dir_, ino); }
std::string ChunkStore::ChunkPath(Ino ino, uint64_t chunk) const {
  return fmt::format("{}/{:016x}/{}", dir_, ino, chunk);
}

Result<size_t> ChunkStore::Read(Ino ino, uint64_t chunk, uint32_t offset,
                                std::span<uint8_t> out) const {
  UniqueFd fd(::open(ChunkPath(ino, chunk).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return size_t{0};
    return Errno("open chunk");
  }
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd.get(), out.data() + done, out.size() - done, offset + done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("read chunk");
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Result<int64_t> ChunkStore::Write(Ino ino, uint64_t chunk, uint32_t offset, std::string_view data) {
  if (offset + data.size() > chunk_size_)
    return Status::Error(EINVAL, "write crosses a chunk border");
  std::string path = ChunkPath(ino, chunk);
  int raw = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (raw < 0 && errno == ENOENT) {
    if (::mkdir(InodeDir(ino).c_str(), 0700) != 0 && errno != EEXIST)
      return Errno("mkdir chunk dir");
    raw = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  }
  UniqueFd fd(raw);
  if (!fd) return Errno("open chunk");
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Errno("stat chunk");
  int64_t before = st.st_blocks;
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd.get(), data.data() + done, data.size() - done, offset + done);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = Errno("write chunk");
      // A failed write leaves nothing past the chunk's old end (a full disk
      // may have taken part of it): the client counts only what it was told.
      if (offset + done > static_cast<uint64_t>(st.st_size))
        (void)::ftruncate(fd.get(), st.st_size);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  return Blocks(fd.get()) - before;
}

Status ChunkStore::Sync(Ino ino) {
  Status result;
  std::string dir = InodeDir(ino);
  ListChunks(dir, [&](uint64_t, const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd && ::fdatasync(fd.get()) != 0 && result.ok()) result = Errno("fdatasync " + path);
  });
  UniqueFd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d) ::fsync(d.get());
  return result;
}

Result<int64_t> ChunkStore::Truncate(Ino ino, uint64_t size) {
  int64_t freed = 0;
  Status result;
  std::string dir = InodeDir(ino);
  ListChunks(dir, [&](uint64_t idx, const std::string& path) {
    uint64_t start = idx * chunk_size_;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return;
    if (start >= size) {
      if (::unlink(path.c_str()) == 0) freed += st.st_blocks;
    } else if (size - start < static_cast<uint64_t>(st.st_size)) {
      if (::truncate(path.c_str(), static_cast<off_t>(size - start)) != 0) {
        result = Errno("truncate " + path);
        return;
      }
      struct stat after {};
      if (::stat(path.c_str(), &after) == 0) freed += st.st_blocks - after.st_blocks;
    }
  });
  if (!result.ok()) return result;
  if (size == 0) ::rmdir(dir.c_str());
  return freed;
}

Result<uint64_t> ChunkStore::Length(Ino ino, uint64_t chunk) const {
  struct stat st {};
  if (::stat(ChunkPath(ino, chunk).c_str(), &st) != 0) return Errno("stat chunk");
  return static_cast<uint64_t>(st.st_size);
}

Status ChunkStore::Replace(Ino ino, uint64_t chunk, std::string_view bytes) {
  if (bytes.size() > chunk_size_) return Status::Error(EINVAL, "chunk larger than the chunk size");
  if (::mkdir(InodeDir(ino).c_str(), 0700) != 0 && errno != EEXIST) return Errno("mkdir chunk dir");
  const std::string path = ChunkPath(ino, chunk), incoming = path + ".incoming";
  UniqueFd fd(::open(incoming.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) return Errno("create " + incoming);
  constexpr size_t kBlock = 4096;
  static const char kZeros[kBlock] = {};
  for (size_t at = 0; at < bytes.size(); at += kBlock) {
    std::string_view block = bytes.substr(at, kBlock);
    if (std::memcmp(block.data(), kZeros, block.size()) == 0) continue;  // a hole
    if (::pwrite(fd.get(), block.data(), block.size(), static_cast<off_t>(at)) !=
        static_cast<ssize_t>(block.size()))
      return Errno("write " + incoming);
  }
  if (::ftruncate(fd.get(), static_cast<off_t>(bytes.size())) != 0 || ::fdatasync(fd.get()) != 0)
    return Errno("write " + incoming);
  if (::rename(incoming.c_str(), path.c_str()) != 0) return Errno("rename " + incoming);
  UniqueFd dir(::open(InodeDir(ino).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir && ::fsync(dir.get()) != 0) return Errno("fsync " + InodeDir(ino));
  return Status::Ok();
}

Status ChunkStore::Remove(Ino ino, uint64_t chunk) {
  if (::unlink(ChunkPath(ino, chunk).c_str()) != 0 && errno != ENOENT) return Errno("remove chunk");
  ::rmdir(InodeDir(ino).c_str());  // only if it is empty now
  return Status::Ok();
}

void ChunkStore::ForEachChunk(const std::function<void(Ino, uint64_t, uint64_t)>& fn) const {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir_.c_str()), ::closedir);
  if (!d) return;
  while (dirent* e = ::readdir(d.get())) {
    if (e->d_name[0] == '.') continue;
    char* end = nullptr;
    Ino ino = std::strtoull(e->d_name, &end, 16);
    if (*end != '\0') continue;
    ListChunks(dir_ + "/" + e->d_name, [&](uint64_t idx, const std::string& path) {
      struct stat st {};
      if (::stat(path.c_str(), &st) == 0) fn(ino, idx, static_cast<uint64_t>(st.st_blocks) * 512);
    });
  }
}

bool ChunkStore::ListChunkPage(Ino ino, uint64_t index, size_t max, std::vector<ChunkInfo>* out,
                               Ino* next_ino, uint64_t* next_index) const {
  max = std::max<size_t>(max, 1);
  size_t listed = 0;
  bool more_dirs = false;
  for (const auto& [dir_ino, dir_name] : SmallestNames(dir_, 16, ino, max, &more_dirs)) {
    bool more_chunks = false;
    uint64_t from = dir_ino == ino ? index : 0;
    std::string dir = dir_ + "/" + dir_name;
    for (const auto& [idx, name] : SmallestNames(dir, 10, from, max - listed, &more_chunks)) {
      *next_ino = dir_ino;
      *next_index = idx + 1;
      struct stat st {};
      if (::stat((dir + "/" + name).c_str(), &st) != 0) continue;  // removed meanwhile
      out->push_back({.ino = dir_ino, .index = idx, .size = static_cast<uint64_t>(st.st_size)});
      ++listed;
    }
    if (more_chunks || listed == max) return false;
    *next_ino = dir_ino + 1;  // this directory is done
    *next_index = 0;
  }
  return !more_dirs;
}

Result<ChunkStore::Space> ChunkStore::Statfs() const {
  struct statvfs sv {};
  if (::statvfs(dir_.c_str(), &sv) != 0) return Errno("statvfs " + dir_);
  Space s;
  s.total = sv.f_blocks * sv.f_frsize;
  s.free = sv.f_bfree * sv.f_frsize;
  s.avail = sv.f_bavail * sv.f_frsize;
  s.files = sv.f_files;
  s.files_free = sv.f_ffree;
  return s;
}

}  // namespace sealfs
