// sealfs-fsck: checks the namespace of a stopped sealfs cluster.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "fsck.h"
#include "logging.h"

using namespace sealfs;

int main(int argc, char** argv) {
  CLI::App app{
      "sealfs-fsck: check (and with --repair fix) a stopped sealfs cluster.\n"
      "Exit status: 0 consistent (or fully repaired), 1 problems found, 2 could not check."};
  std::string config_path;
  bool repair = false;
  app.add_option("-c,--config", config_path, "cluster file (TOML)")->required();
  app.add_flag("--repair", repair, "fix what is found");
  CLI11_PARSE(app, argc, argv);
  (void)SetupLogging("sealfs-fsck", "warn");

  Result<ClusterConfig> config = LoadClusterConfig(config_path);
  if (!config.ok()) {
    std::cerr << "sealfs-fsck: " << config.status().message() << "\n";
    return 2;
  }
  std::map<ServerId, ServerStores> stores;
  for (const ServerInfo& s : config->servers) {
    if (s.data_dir.empty()) {
      std::cerr << "sealfs-fsck: server " << s.id << " has no data_dir in " << config_path << "\n";
      return 2;
    }
    auto meta = MetaStore::Open(s.data_dir + "/meta", s.id);
    if (!meta.ok()) {
      std::cerr << "sealfs-fsck: server " << s.id << ": " << meta.status().message()
                << " (is the server still running? sealfs-fsck needs a stopped cluster)\n";
      return 2;
    }
    auto chunks = ChunkStore::Open(s.data_dir + "/chunks", config->chunk_size);
    if (!chunks.ok()) {
      std::cerr << "sealfs-fsck: server " << s.id << ": " << chunks.status().message() << "\n";
      return 2;
    }
    stores[s.id] = ServerStores{std::move(*meta), std::move(*chunks)};
  }

  Result<Fsck::Report> r = CheckStoppedCluster(*config, &stores, repair, &std::cout);
  if (!r.ok()) {
    std::cerr << "sealfs-fsck: " << r.status().message() << "\n";
    return 2;
  }
  std::cout << fmt::format(
      "sealfs-fsck: {} servers, {} problems, {} repaired, {} pending intents\n", stores.size(),
      r->problems, r->repaired, r->pending_intents);
  return r->problems == r->repaired ? 0 : 1;
}
