#include "migrate_workload.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>

#include "sys_error.h"

namespace sealfs::bench {
namespace {

constexpr uint64_t kBlock = 1 << 20;

uint64_t Mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Closes the descriptor on every path out.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  // close(2) reports errors of the last writes: check it.
  int Close() {
    int rc = ::close(fd);
    fd = -1;
    return rc;
  }
};

bool WriteAll(int fd, const char* p, size_t n, uint64_t offset) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(offset));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w, n -= static_cast<size_t>(w), offset += static_cast<uint64_t>(w);
  }
  return true;
}

// Reads up to n bytes; fewer only at end of file. -1 on error.
ssize_t ReadAll(int fd, char* p, size_t n, uint64_t offset) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, p + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(done);
}

}  // namespace

DataSet::DataSet(std::filesystem::path root, uint64_t files, uint64_t total, int dirs,
                 uint64_t seed)
    : root_(std::move(root)), dirs_(dirs), seed_(seed) {
  const uint64_t mean = files ? total / files : 0;
  sizes_.reserve(files);
  for (uint64_t i = 0; i < files; ++i) {
    sizes_.push_back(mean / 2 + Mix(seed ^ (0x5153ull << 48) ^ i) % (mean + 1));
    total_ += sizes_.back();
  }
}

std::filesystem::path DataSet::Path(uint64_t file) const {
  return root_ / fmt::format("d{:03}", file % static_cast<uint64_t>(dirs_)) /
         fmt::format("f{:06}", file);
}

void DataSet::Pattern(uint64_t file, uint64_t offset, std::span<char> out) const {
  const uint64_t key = Mix(seed_ * 0x100000001b3ull ^ file);
  uint64_t word = offset / 8;
  size_t i = 0;
  for (; i + 8 <= out.size(); i += 8, ++word) {
    const uint64_t v = Mix(key + word);
    std::memcpy(out.data() + i, &v, 8);
  }
  if (i < out.size()) {
    const uint64_t v = Mix(key + word);
    std::memcpy(out.data() + i, &v, out.size() - i);
  }
}

std::string DataSet::Check(uint64_t file, uint64_t offset, std::span<const char> got) const {
  std::vector<char> want(got.size());
  Pattern(file, offset, want);
  auto [g, w] = std::mismatch(got.begin(), got.end(), want.begin());
  if (g == got.end()) return "";
  const uint64_t at = offset + static_cast<uint64_t>(g - got.begin());
  return fmt::format("WRONG BYTES in {} at offset {}: 0x{:02x}, expected 0x{:02x}",
                     Path(file).string(), at, static_cast<unsigned char>(*g),
                     static_cast<unsigned char>(*w));
}

PhaseResult DataSet::Write(int threads) const {
  for (int d = 0; d < dirs_; ++d)
    std::filesystem::create_directories(root_ / fmt::format("d{:03}", d));
  return RunParallel(threads, [&](int t, Latencies& lat) -> std::string {
    std::vector<char> buf(kBlock);
    const Slice s = SliceOf(files(), threads, t);
    for (uint64_t f = s.begin; f < s.end; ++f) {
      const Clock::time_point start = Clock::now();
      const std::string path = Path(f);
      Fd fd(::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644));
      if (fd.fd < 0) return SysError("create", path);
      for (uint64_t off = 0; off < sizes_[f]; off += kBlock) {
        const size_t n = static_cast<size_t>(std::min(kBlock, sizes_[f] - off));
        Pattern(f, off, {buf.data(), n});
        if (!WriteAll(fd.fd, buf.data(), n, off)) return SysError("write", path);
      }
      if (fd.Close() != 0) return SysError("close", path);
      lat.Add(Clock::now() - start);
    }
    return "";
  });
}

PhaseResult DataSet::Verify(int threads, uint64_t every) const {
  every = std::max<uint64_t>(every, 1);
  return RunParallel(threads, [&](int t, Latencies& lat) -> std::string {
    std::vector<char> buf(kBlock);
    const Slice s = SliceOf(files(), threads, t);
    for (uint64_t f = s.begin; f < s.end; ++f) {
      if (f % every != 0) continue;
      const Clock::time_point start = Clock::now();
      const std::string path = Path(f);
      Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      if (fd.fd < 0) return SysError("open", path);
      struct stat st {};
      if (::fstat(fd.fd, &st) != 0) return SysError("fstat", path);
      if (static_cast<uint64_t>(st.st_size) != sizes_[f])
        return fmt::format("WRONG SIZE of {}: {}, expected {}", path, st.st_size, sizes_[f]);
      for (uint64_t off = 0; off < sizes_[f]; off += kBlock) {
        const size_t n = static_cast<size_t>(std::min(kBlock, sizes_[f] - off));
        const ssize_t got = ReadAll(fd.fd, buf.data(), n, off);
        if (got < 0) return SysError("read", path);
        if (static_cast<size_t>(got) != n)
          return fmt::format("SHORT READ of {} at offset {}: {} of {} bytes", path, off, got, n);
        if (std::string bad = Check(f, off, {buf.data(), n}); !bad.empty()) return bad;
      }
      lat.Add(Clock::now() - start);
    }
    return "";
  });
}

struct MixedWorkload::Thread {
  int index = 0;
  std::mt19937_64 rng;
  std::vector<std::string> hot_paths;
  std::vector<std::string> hot_data;  // what each hot file holds
  uint64_t next_tmp = 0;
  std::array<std::array<std::atomic<uint64_t>, kOpTypes>, kPhases> counts{};
  std::array<std::array<Latencies, kOpTypes>, kPhases> latencies;  // read after Stop
  std::thread thread;
};

MixedWorkload::MixedWorkload(const DataSet& data, WorkloadOptions options)
    : data_(data), options_(std::move(options)) {}

MixedWorkload::~MixedWorkload() { Stop(); }

void MixedWorkload::Prepare() {
  std::filesystem::create_directories(options_.work_root / "hot");
  std::filesystem::create_directories(options_.work_root / "tmp");
  for (int i = 0; i < options_.threads; ++i) {
    auto t = std::make_unique<Thread>();
    t->index = i;
    t->rng.seed(options_.seed * 1000003 + static_cast<uint64_t>(i));
    for (int h = 0; h < options_.hot_files; ++h) {
      const std::string path = (options_.work_root / "hot" / fmt::format("t{:02}-h{:03}", i, h));
      std::string bytes(options_.hot_size, '\0');
      for (char& c : bytes) c = static_cast<char>(t->rng());
      Fd fd(::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644));
      if (fd.fd < 0 || !WriteAll(fd.fd, bytes.data(), bytes.size(), 0) || fd.Close() != 0)
        throw std::runtime_error(SysError("writing", path));
      t->hot_paths.push_back(path);
      t->hot_data.push_back(std::move(bytes));
    }
    threads_.push_back(std::move(t));
  }
}

void MixedWorkload::Start() {
  stop_ = false;
  for (auto& t : threads_) t->thread = std::thread([this, th = t.get()] { Run(*th); });
}

void MixedWorkload::Stop() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t->thread.joinable()) t->thread.join();
  }
}

void MixedWorkload::Fail(const std::string& message) {
  std::lock_guard lock(mu_);
  if (error_.empty()) error_ = message;
  failed_ = true;
}

std::string MixedWorkload::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

void MixedWorkload::Run(Thread& t) {
  int weight_sum = 0;
  for (int w : options_.mix) weight_sum += w;
  const std::string tmp_prefix =
      (options_.work_root / "tmp" / fmt::format("t{:02}-", t.index)).string();
  while (!stop_ && !failed_) {
    int pick = static_cast<int>(t.rng() % static_cast<uint64_t>(weight_sum));
    int type = 0;
    while (pick >= options_.mix[type]) pick -= options_.mix[type++];
    const int phase = phase_.load();
    const Clock::time_point start = Clock::now();
    if (std::string err = Step(t, type, tmp_prefix); !err.empty()) {
      Fail(err);
      return;
    }
    if (phase >= 0) {
      t.latencies[phase][type].Add(Clock::now() - start);
      t.counts[phase][type].fetch_add(1, std::memory_order_relaxed);
    }
  }
}

std::string MixedWorkload::Step(Thread& t, int type, const std::string& tmp_prefix) {
  const uint64_t io = options_.io_size;
  switch (type) {
    case kStat: {  // a data file: its size must not have changed
      const uint64_t f = t.rng() % data_.files();
      const std::string path = data_.Path(f);
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) return SysError("stat", path);
      if (static_cast<uint64_t>(st.st_size) != data_.size(f))
        return fmt::format("WRONG SIZE of {}: {}, expected {}", path, st.st_size, data_.size(f));
      return "";
    }
    case kRead: {  // io_size bytes of a data file at an aligned offset, checked
      const uint64_t f = t.rng() % data_.files();
      const uint64_t size = data_.size(f);
      const uint64_t slots = size > io ? (size - io) / io + 1 : 1;
      const uint64_t off = (t.rng() % slots) * io;
      const size_t want = static_cast<size_t>(std::min(io, size - std::min(off, size)));
      const std::string path = data_.Path(f);
      Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      if (fd.fd < 0) return SysError("open", path);
      // A small read: no kernel readahead of the rest of the file.
      ::posix_fadvise(fd.fd, 0, 0, POSIX_FADV_RANDOM);
      std::vector<char> buf(want);
      const ssize_t got = ReadAll(fd.fd, buf.data(), want, off);
      if (got < 0) return SysError("read", path);
      if (static_cast<size_t>(got) != want)
        return fmt::format("SHORT READ of {} at offset {}: {} of {} bytes", path, off, got, want);
      return data_.Check(f, off, buf);
    }
    case kWrite: {  // io_size bytes over one of this thread's hot files
      const size_t h = t.rng() % t.hot_paths.size();
      std::string& data = t.hot_data[h];
      const uint64_t slots = data.size() > io ? (data.size() - io) / io + 1 : 1;
      const uint64_t off = (t.rng() % slots) * io;
      const size_t n = static_cast<size_t>(std::min<uint64_t>(io, data.size() - off));
      std::string bytes(n, '\0');
      for (char& c : bytes) c = static_cast<char>(t.rng());
      const std::string& path = t.hot_paths[h];
      Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
      if (fd.fd < 0) return SysError("open", path);
      if (!WriteAll(fd.fd, bytes.data(), n, off)) return SysError("write", path);
      if (fd.Close() != 0) return SysError("close", path);
      data.replace(off, n, bytes);
      return "";
    }
    case kCreateUnlink: {  // a new file of io_size bytes, then gone
      const std::string path = tmp_prefix + std::to_string(t.next_tmp++);
      std::vector<char> bytes(io, 'x');
      Fd fd(::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644));
      if (fd.fd < 0) return SysError("create", path);
      if (!WriteAll(fd.fd, bytes.data(), bytes.size(), 0)) return SysError("write", path);
      if (fd.Close() != 0) return SysError("close", path);
      if (::unlink(path.c_str()) != 0) return SysError("unlink", path);
      return "";
    }
  }
  return "unknown operation";
}

std::string MixedWorkload::VerifyHotFiles() const {
  for (const auto& t : threads_) {
    for (size_t h = 0; h < t->hot_paths.size(); ++h) {
      const std::string& path = t->hot_paths[h];
      const std::string& want = t->hot_data[h];
      Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      if (fd.fd < 0) return SysError("open", path);
      std::string got(want.size() + 1, '\0');  // one more: the file must not be longer
      const ssize_t n = ReadAll(fd.fd, got.data(), got.size(), 0);
      if (n < 0) return SysError("read", path);
      got.resize(static_cast<size_t>(n));
      if (got != want) {
        size_t at = 0;
        while (at < got.size() && at < want.size() && got[at] == want[at]) ++at;
        return fmt::format("WRONG BYTES in {}: {} bytes read, {} expected, first difference at {}",
                           path, got.size(), want.size(), at);
      }
    }
  }
  return "";
}

uint64_t MixedWorkload::Count(int phase, int type) const {
  uint64_t n = 0;
  for (const auto& t : threads_) {
    for (int k = 0; k < kOpTypes; ++k) {
      if (type == kOpTypes || type == k) n += t->counts[phase][k].load(std::memory_order_relaxed);
    }
  }
  return n;
}

Latencies MixedWorkload::Merged(int phase, int type) const {
  Latencies all;
  for (const auto& t : threads_) {
    for (int k = 0; k < kOpTypes; ++k) {
      if (type == kOpTypes || type == k) all.Merge(t->latencies[phase][k]);
    }
  }
  return all;
}

}  // namespace sealfs::bench
