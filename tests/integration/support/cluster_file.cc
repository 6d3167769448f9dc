#include "cluster_file.h"

#include <fstream>
#include <stdexcept>
#include <string>

namespace sealfs::it {

void ClusterFile::Write(const std::filesystem::path& path) const {
  std::ofstream out(path);
  out << "version = " << version << "\n";
  if (chunk_size) out << "chunk_size = " << *chunk_size << "\n";
  if (!secret_file.empty()) out << "secret_file = \"" << secret_file.string() << "\"\n";
  for (const auto& s : servers) {
    out << "\n[[server]]\n"
        << "id = " << s.id << "\n"
        << "address = \"" << s.address << "\"\n"
        << "port = " << s.port << "\n"
        << (s.udp_port ? "udp_port = " + std::to_string(s.udp_port) + "\n" : "") << "data_dir = \""
        << s.data_dir.string() << "\"\n";
  }
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace sealfs::it
