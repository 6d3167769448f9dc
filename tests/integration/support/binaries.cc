#include "binaries.h"

#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>

namespace sealfs::it {

std::filesystem::path BinaryPath(std::string_view name) {
  const char* env = std::getenv("SEALFS_BIN_DIR");
  const std::filesystem::path dir = env != nullptr ? env : SEALFS_BIN_DIR;
  auto path = dir / name;
  if (!std::filesystem::exists(path)) {
    throw std::runtime_error(path.string() + " does not exist: build the project first (or set " +
                             "SEALFS_TEST_LOCAL_DIR to run the POSIX tests on a local directory)");
  }
  return path;
}

std::vector<std::string> ExtraMountArgs() {
  std::vector<std::string> args;
  const char* env = std::getenv("SEALFS_TEST_MOUNT_ARGS");
  if (env == nullptr) return args;
  std::istringstream words(env);
  for (std::string word; words >> word;) args.push_back(word);
  return args;
}

}  // namespace sealfs::it
