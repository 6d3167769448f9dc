#include "temp_dir.h"

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include "janitor.h"

namespace sealfs::it {
namespace {

constexpr std::string_view kPrefix = "sealfs-it-";

int RemoveEntry(const char* path, const struct stat*, int type, FTW*) {
  if (type == FTW_DP) {
    ::rmdir(path);
  } else {
    ::unlink(path);
  }
  return 0;  // best effort: keep going
}

}  // namespace

TempDir::TempDir(const std::filesystem::path& base) {
  std::string templ = (base / (std::string(kPrefix) + "XXXXXX")).string();
  if (::mkdtemp(templ.data()) == nullptr) {
    throw std::runtime_error("mkdtemp " + templ + ": " + std::strerror(errno));
  }
  path_ = templ;
  ::chmod(path_.c_str(), 0755);
  Janitor::Get().TrackDir(path_);
}

TempDir::~TempDir() {
  RemoveTree(path_);
  Janitor::Get().ForgetDir(path_);
}

void RemoveTree(const std::filesystem::path& dir) {
  if (!dir.filename().string().starts_with(kPrefix)) {
    std::fprintf(stderr, "RemoveTree: refusing to remove %s\n", dir.c_str());
    return;
  }
  // FTW_MOUNT: never cross into a mount that is still attached below dir.
  ::nftw(dir.c_str(), RemoveEntry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

}  // namespace sealfs::it
