#include "data_phases.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <utility>

#include "latency.h"
#include "sys_error.h"

namespace sealfs::bench {

namespace {

// A closed-on-scope file descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

struct FreeDeleter {
  void operator()(uint8_t* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<uint8_t, FreeDeleter>;

Buffer AllocBuffer(uint64_t size) {
  return Buffer(static_cast<uint8_t*>(std::aligned_alloc(kPageSize, size)));
}

void StampPages(uint8_t* buf, uint64_t len, uint64_t file_offset) {
  for (uint64_t p = 0; p < len; p += kPageSize) {
    uint64_t stamp = file_offset + p;
    std::memcpy(buf + p, &stamp, sizeof stamp);
  }
}

std::string CheckPages(const uint8_t* buf, uint64_t len, uint64_t file_offset,
                       const std::string& path) {
  for (uint64_t p = 0; p < len; p += kPageSize) {
    uint64_t stamp;
    std::memcpy(&stamp, buf + p, sizeof stamp);
    if (stamp != file_offset + p)
      return fmt::format("read {}: wrong data at offset {} (page stamped {})", path,
                         file_offset + p, stamp);
  }
  return "";
}

std::string WriteFull(int fd, const uint8_t* buf, uint64_t len, const std::string& path) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return SysError("write", path);
    buf += n;
    len -= static_cast<uint64_t>(n);
  }
  return "";
}

std::string PreadFull(int fd, uint8_t* buf, uint64_t len, uint64_t offset,
                      const std::string& path) {
  while (len > 0) {
    ssize_t n = pread(fd, buf, len, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SysError("read", path);
    if (n == 0) return fmt::format("read {}: unexpected end of file at offset {}", path, offset);
    buf += n;
    len -= static_cast<uint64_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return "";
}

// Drops the cached pages of the file and, when asked, of the whole system
// (which also covers the servers' chunk files behind a mount).
std::string DropCaches(const DataOptions& o) {
  Fd fd(open(o.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return SysError("open", o.path);
  if (int e = posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED); e != 0)
    return fmt::format("posix_fadvise {}: {}", o.path, std::strerror(e));
  if (!o.drop_system_caches) return "";
  sync();
  const char* knob = "/proc/sys/vm/drop_caches";
  Fd drop(open(knob, O_WRONLY | O_CLOEXEC));
  if (drop.get() < 0 || write(drop.get(), "3\n", 2) != 2) return SysError("write", knob);
  return "";
}

Measurement Summarize(const std::string& phase, uint64_t ops, uint64_t bytes, double seconds,
                      Latencies& lat) {
  return Measurement{.phase = phase,
                     .ops = ops,
                     .bytes = bytes,
                     .seconds = seconds,
                     .p50_us = lat.PercentileUs(0.50),
                     .p99_us = lat.PercentileUs(0.99)};
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Writes the file block by block; the time includes fsync and close, so
// both targets are measured to stable storage.
std::string SequentialWrite(const DataOptions& o, uint8_t* buf, Report* report) {
  std::mt19937_64 rng(o.seed);
  for (uint64_t i = 0; i + 8 <= o.block; i += 8) {
    uint64_t r = rng();
    std::memcpy(buf + i, &r, sizeof r);
  }
  Latencies lat;
  Clock::time_point start = Clock::now();
  Fd fd(open(o.path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644));
  if (fd.get() < 0) return SysError("create", o.path);
  uint64_t ops = 0;
  for (uint64_t off = 0; off < o.size; off += o.block, ++ops) {
    uint64_t len = std::min(o.block, o.size - off);
    StampPages(buf, len, off);
    std::string err = Timed(lat, [&] { return WriteFull(fd.get(), buf, len, o.path); });
    if (!err.empty()) return err;
  }
  if (fsync(fd.get()) != 0) return SysError("fsync", o.path);
  if (close(fd.Release()) != 0) return SysError("close", o.path);
  report->Add(Summarize("seq_write", ops, o.size, SecondsSince(start), lat));
  return "";
}

std::string SequentialRead(const DataOptions& o, uint8_t* buf, Report* report) {
  Latencies lat;
  Clock::time_point start = Clock::now();
  Fd fd(open(o.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return SysError("open", o.path);
  uint64_t ops = 0;
  for (uint64_t off = 0; off < o.size; off += o.block, ++ops) {
    uint64_t len = std::min(o.block, o.size - off);
    std::string err = Timed(lat, [&] { return PreadFull(fd.get(), buf, len, off, o.path); });
    if (err.empty()) err = CheckPages(buf, len, off, o.path);
    if (!err.empty()) return err;
  }
  report->Add(Summarize("seq_read", ops, o.size, SecondsSince(start), lat));
  return "";
}

std::string RandomReads(const DataOptions& o, uint8_t* buf, Report* report) {
  std::mt19937_64 rng(o.seed + 1);
  std::uniform_int_distribution<uint64_t> page(0, (o.size - o.random_block) / kPageSize);
  Latencies lat;
  lat.Reserve(o.random_reads);
  Fd fd(open(o.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return SysError("open", o.path);
  Clock::time_point start = Clock::now();
  for (uint64_t i = 0; i < o.random_reads; ++i) {
    uint64_t off = page(rng) * kPageSize;
    std::string err =
        Timed(lat, [&] { return PreadFull(fd.get(), buf, o.random_block, off, o.path); });
    if (err.empty()) err = CheckPages(buf, o.random_block, off, o.path);
    if (!err.empty()) return err;
  }
  report->Add(Summarize("rand_read", o.random_reads, o.random_reads * o.random_block,
                        SecondsSince(start), lat));
  return "";
}

std::string RunPhases(const DataOptions& o, Report* report) {
  Buffer buf = AllocBuffer(std::max(o.block, o.random_block));
  if (!buf) return fmt::format("cannot allocate a {} byte buffer", o.block);
  if (std::string err = SequentialWrite(o, buf.get(), report); !err.empty()) return err;
  if (std::string err = DropCaches(o); !err.empty()) return err;
  if (std::string err = SequentialRead(o, buf.get(), report); !err.empty()) return err;
  if (o.random_reads == 0) return "";
  if (std::string err = DropCaches(o); !err.empty()) return err;
  return RandomReads(o, buf.get(), report);
}

}  // namespace

std::string RunDataPhases(const DataOptions& o, Report* report) {
  if (o.size == 0 || o.size % kPageSize != 0 || o.block == 0 || o.block % kPageSize != 0 ||
      o.random_block == 0 || o.random_block % kPageSize != 0 || o.random_block > o.size)
    return fmt::format(
        "data phases: size, block and random block must be non-zero multiples of "
        "{} bytes, and the random block at most the size",
        kPageSize);
  std::string err = RunPhases(o, report);
  if (unlink(o.path.c_str()) != 0 && errno != ENOENT && err.empty())
    err = SysError("unlink", o.path);
  return err;
}

}  // namespace sealfs::bench
