#include "two_client_stress.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "file_util.h"
#include "syscall_assertions.h"

namespace sealfs::it {
namespace {

constexpr int kNames = 24;

struct File {
  mode_t mode = 0644;
  off_t size = 0;
};

class Stress {
 public:
  Stress(std::filesystem::path a, std::filesystem::path b, uint64_t seed)
      : a_(std::move(a)), b_(std::move(b)), rng_(seed) {}

  // Sets *ops to the operations done; returns at the first failure.
  void Run(long total, long* ops);

 private:
  std::filesystem::path PickPath() {
    return kDirs[rng_() % kDirs.size()] / ("n" + std::to_string(rng_() % kNames));
  }
  // One change on A; false if the pick made none (nothing to change).
  void Change(const std::filesystem::path& p, const std::filesystem::path& q, bool* changed);
  // `rel` on B is what the model says.
  bool Check(const std::filesystem::path& rel);

  inline static const std::vector<std::filesystem::path> kDirs = {"", "d0", "d1"};
  const std::filesystem::path a_, b_;
  std::mt19937_64 rng_;
  std::map<std::filesystem::path, File> model_;  // relative path -> expected state
};

void Stress::Run(long total, long* ops) {
  *ops = 0;
  for (const auto& d : kDirs) {
    if (!d.empty()) {
      ASSERT_OK(::mkdir((a_ / d).c_str(), 0755));
    }
  }
  while (*ops < total) {
    std::filesystem::path p = PickPath(), q = PickPath();
    bool changed = false;
    Change(p, q, &changed);
    if (::testing::Test::HasFatalFailure()) return;
    if (!changed) continue;
    ++*ops;
    // The changed names, and others B may have cached, checked on B.
    for (int i = 0; i < 9; ++i) {
      ++*ops;
      if (!Check(i == 0 ? p : i == 1 ? q : PickPath()))
        FAIL() << "stale answer on B after " << *ops << " operations";
    }
  }
}

void Stress::Change(const std::filesystem::path& p, const std::filesystem::path& q, bool* changed) {
  const bool exists = model_.contains(p);
  switch (rng_() % 5) {
    case 0: {  // create or rewrite, then close
      off_t size = static_cast<off_t>(rng_() % 3000);
      WriteFile(a_ / p, std::string(static_cast<size_t>(size), 's'));
      model_[p].size = size;
      break;
    }
    case 1:  // unlink
      if (!exists) return;
      ASSERT_OK(::unlink((a_ / p).c_str()));
      model_.erase(p);
      break;
    case 2:  // rename, maybe over another file
      if (!exists || p == q) return;
      ASSERT_OK(::rename((a_ / p).c_str(), (a_ / q).c_str()));
      model_[q] = model_[p];
      model_.erase(p);
      break;
    case 3: {  // chmod
      if (!exists) return;
      mode_t mode = std::array<mode_t, 4>{0600, 0640, 0644, 0755}[rng_() % 4];
      ASSERT_OK(::chmod((a_ / p).c_str(), mode));
      model_[p].mode = mode;
      break;
    }
    case 4: {  // write in place, then close
      if (!exists) return;
      int fd = ::open((a_ / p).c_str(), O_WRONLY);
      ASSERT_GE(fd, 0) << p << ": " << std::strerror(errno);
      off_t off = static_cast<off_t>(rng_() % 4000);
      ASSERT_EQ(::pwrite(fd, "w", 1, off), 1);
      ASSERT_OK(::close(fd));
      model_[p].size = std::max(model_[p].size, off + 1);
      break;
    }
  }
  *changed = true;
}

bool Stress::Check(const std::filesystem::path& rel) {
  struct stat st;
  int rc = ::stat((b_ / rel).c_str(), &st);
  auto it = model_.find(rel);
  if (it == model_.end()) {
    EXPECT_EQ(rc, -1) << rel << " still visible on B after it was removed on A";
    return rc == -1;
  }
  EXPECT_EQ(rc, 0) << rel << " not visible on B: " << std::strerror(errno);
  if (rc != 0) return false;
  EXPECT_EQ(st.st_mode & 07777, it->second.mode) << rel;
  EXPECT_EQ(st.st_size, it->second.size) << rel;
  return (st.st_mode & 07777) == it->second.mode && st.st_size == it->second.size;
}

}  // namespace

long RunTwoClientStress(const std::filesystem::path& a, const std::filesystem::path& b,
                        StressOptions options) {
  long ops = 0;
  Stress(a, b, options.seed).Run(options.operations, &ops);
  return ops;
}

long StressOperations(long otherwise) {
  const char* env = std::getenv("SEALFS_STRESS_OPS");
  return env ? std::atol(env) : otherwise;
}

}  // namespace sealfs::it
