#include "log_tail.h"

#include <deque>
#include <fstream>

namespace sealfs::it {

std::string LogTail(const std::filesystem::path& path, size_t max_lines) {
  std::ifstream in(path);
  if (!in) return "";
  std::deque<std::string> lines;
  size_t total = 0;
  for (std::string line; std::getline(in, line); ++total) {
    lines.push_back(std::move(line));
    if (lines.size() > max_lines) lines.pop_front();
  }
  std::string out = "----- " + path.string() + " (last " + std::to_string(lines.size()) + " of " +
                    std::to_string(total) + " lines) -----\n";
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace sealfs::it
