// Temporary directories that are removed on destruction, without ever descending into a
// file system mounted below them.
#pragma once

#include <filesystem>

namespace sealfs::it {

class TempDir {
 public:
  // Creates <base>/sealfs-it-XXXXXX with mode 0755 (so tests that switch to an unprivileged
  // uid can still reach what lies below it).
  explicit TempDir(const std::filesystem::path& base = std::filesystem::temp_directory_path());
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Removes dir recursively, staying on dir's file system. Refuses any path that is not a
// TempDir (its last component must start with "sealfs-it-").
void RemoveTree(const std::filesystem::path& dir);

}  // namespace sealfs::it
