#include "tree_snapshot.h"

#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <sstream>
#include <vector>

#include "file_util.h"

namespace sealfs::it {
namespace {

std::string UserXattrs(const std::filesystem::path& path) {
  std::string names(65536, '\0');
  const ssize_t n = ::llistxattr(path.c_str(), names.data(), names.size());
  if (n < 0) return "<llistxattr failed>";
  std::string out;
  for (size_t i = 0; i < static_cast<size_t>(n);) {
    const std::string name(names.c_str() + i);
    i += name.size() + 1;
    if (!name.starts_with("user.")) continue;
    std::string value(65536, '\0');
    const ssize_t len = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    value.resize(len < 0 ? 0 : static_cast<size_t>(len));
    out += name + "=" + std::to_string(Hash(value)) + ";";
  }
  return out;
}

std::string Describe(const std::filesystem::path& path) {
  const struct stat st = Lstat(path);
  std::ostringstream d;
  d << "mode=" << std::oct << st.st_mode << std::dec << " uid=" << st.st_uid << " gid=" << st.st_gid
    << " nlink=" << st.st_nlink << " ino=" << st.st_ino << " mtime=" << st.st_mtim.tv_sec << "."
    << st.st_mtim.tv_nsec;
  if (S_ISREG(st.st_mode)) {
    d << " size=" << st.st_size << " hash=" << Hash(ReadFile(path));
  } else if (S_ISLNK(st.st_mode)) {
    std::string target(4096, '\0');
    const ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
    target.resize(n < 0 ? 0 : static_cast<size_t>(n));
    d << " target=" << target;
  }
  d << " xattrs=" << UserXattrs(path);
  return d.str();
}

void Walk(const std::filesystem::path& root, const std::string& rel, TreeSnapshot& out) {
  const auto path = rel.empty() ? root : root / rel;
  out[rel] = Describe(path);
  if (!S_ISDIR(Lstat(path).st_mode)) return;
  for (const auto& name : ListDir(path)) Walk(root, rel.empty() ? name : rel + "/" + name, out);
}

}  // namespace

TreeSnapshot SnapshotTree(const std::filesystem::path& root) {
  TreeSnapshot out;
  Walk(root, "", out);
  return out;
}

std::string DescribeDifferences(const TreeSnapshot& expected, const TreeSnapshot& actual) {
  std::string out;
  for (const auto& [path, want] : expected) {
    auto it = actual.find(path);
    if (it == actual.end()) {
      out += "missing: /" + path + "\n";
    } else if (it->second != want) {
      out += "changed: /" + path + "\n  was: " + want + "\n  now: " + it->second + "\n";
    }
  }
  for (const auto& [path, got] : actual) {
    if (!expected.contains(path)) out += "extra: /" + path + " " + got + "\n";
  }
  return out;
}

}  // namespace sealfs::it
