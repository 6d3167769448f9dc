#include "link_counts.h"

#include <sys/stat.h>

#include <map>

#include "file_util.h"

namespace sealfs::it {
namespace {

struct Seen {
  nlink_t nlink = 0;
  nlink_t names = 0;
  std::string example;
};

void Walk(const std::filesystem::path& dir, std::map<ino_t, Seen>& files, std::string& out) {
  nlink_t subdirs = 0;
  for (const auto& name : ListDir(dir)) {
    const auto path = dir / name;
    const struct stat st = Lstat(path);
    if (S_ISDIR(st.st_mode)) {
      ++subdirs;
      Walk(path, files, out);
    } else {
      auto& seen = files[st.st_ino];
      seen.nlink = st.st_nlink;
      ++seen.names;
      seen.example = path.string();
    }
  }
  const nlink_t nlink = Lstat(dir).st_nlink;
  if (nlink != 2 + subdirs) {
    out += dir.string() + ": nlink " + std::to_string(nlink) + ", but " + std::to_string(subdirs) +
           " subdirectories\n";
  }
}

}  // namespace

std::string LinkCountMismatches(const std::filesystem::path& root) {
  std::map<ino_t, Seen> files;
  std::string out;
  Walk(root, files, out);
  for (const auto& [ino, seen] : files) {
    if (seen.nlink != seen.names) {
      out += seen.example + " (inode " + std::to_string(ino) + "): nlink " +
             std::to_string(seen.nlink) + ", but " + std::to_string(seen.names) + " names\n";
    }
  }
  return out;
}

}  // namespace sealfs::it
