// sealfs-cachebench: the metadata read path of the --bpf client cache against
// the kernel's own caching and against tmpfs, in one run (docs/benchmarks.md,
// scripts/bench-bpf.sh runs it in the test VM).
//
// It starts a three-server cluster on loopback, creates --files files in one
// directory and a tree of --tree-dirs x --tree-files files, and mounts the
// cluster three ways: "coherent" (--attr-timeout 0, every stat is an upcall
// and a server round trip), "attr1s" (the kernel's 1 s attribute and entry
// cache) and "bpf" (--bpf). The same files are made in a tmpfs directory, the
// upper bound. Then, --rounds times, each target in turn: a hot stat() loop
// over the files for --seconds, and --walks times `ls -lR` and
// `find -type f` over the tree. Prints each target's figures and the ratios
// of bpf to the others.
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "binaries.h"
#include "latency.h"
#include "local_cluster.h"
#include "report.h"
#include "subprocess.h"
#include "temp_dir.h"

using namespace sealfs::bench;
namespace fs = std::filesystem;

namespace {

constexpr long kTmpfsMagic = 0x01021994;

struct Target {
  std::string label;
  fs::path root;
  Latencies stat_lat;
  uint64_t stats = 0;
  double stat_seconds = 0;
  std::map<std::string, std::vector<double>> walk_seconds;  // "ls_lR", "find"
};

void MakeFiles(const fs::path& root, int files, int tree_dirs, int tree_files) {
  fs::create_directories(root / "stat");
  for (int i = 0; i < files; ++i) std::ofstream(root / "stat" / fmt::format("f{:05}", i)) << i;
  for (int d = 0; d < tree_dirs; ++d) {
    const fs::path dir = root / "tree" / fmt::format("d{:03}", d);
    fs::create_directories(dir);
    for (int f = 0; f < tree_files; ++f) std::ofstream(dir / fmt::format("f{:03}", f)) << f;
  }
}

// stat() of every file in turn until `seconds` have passed; each call timed.
void HotStats(Target& t, int files, double seconds) {
  std::vector<std::string> paths;
  for (int i = 0; i < files; ++i) paths.push_back(t.root / "stat" / fmt::format("f{:05}", i));
  struct stat st;
  for (const auto& p : paths) {  // warm: the first answers fill the caches
    if (::stat(p.c_str(), &st) != 0)
      throw fs::filesystem_error("stat", p, std::error_code(errno, std::generic_category()));
  }
  const Clock::time_point start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  uint64_t n = 0;
  for (Clock::time_point now = start; now < end; ++n) {
    const std::string& p = paths[n % paths.size()];
    int rc = ::stat(p.c_str(), &st);
    Clock::time_point after = Clock::now();
    if (rc != 0)
      throw fs::filesystem_error("stat", p, std::error_code(errno, std::generic_category()));
    t.stat_lat.Add(after - now);
    now = after;
  }
  t.stats += n;
  t.stat_seconds += std::chrono::duration<double>(Clock::now() - start).count();
}

double TimedCommand(const std::vector<std::string>& argv) {
  const Clock::time_point start = Clock::now();
  sealfs::it::CommandResult r = sealfs::it::RunCommand(argv, std::chrono::minutes(10));
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  if (r.timed_out || r.status != 0)
    throw std::runtime_error(fmt::format("{} failed (status {}): {}", fmt::join(argv, " "),
                                         r.status, r.output.substr(0, 500)));
  return s;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "sealfs-cachebench: hot stat, ls -lR and find on tmpfs and on sealfs mounted "
      "coherent, with the 1 s kernel cache, and with --bpf"};
  int files = 1000, tree_dirs = 100, tree_files = 100, rounds = 3, walks = 1;
  double seconds = 2;
  std::string tmpfs = "/dev/shm", json_path;
  bool no_bpf = false;
  app.add_option("--files", files, "files of the hot stat loop")->check(CLI::Range(1, 1000000));
  app.add_option("--tree-dirs", tree_dirs, "directories of the walked tree")
      ->check(CLI::Range(1, 10000));
  app.add_option("--tree-files", tree_files, "files per directory of the walked tree")
      ->check(CLI::Range(1, 10000));
  app.add_option("--seconds", seconds, "length of one hot stat loop")
      ->check(CLI::Range(0.1, 600.0));
  app.add_option("--rounds", rounds, "rounds; each runs every target in turn")
      ->check(CLI::Range(1, 100));
  app.add_option("--walks", walks, "ls -lR and find runs per target and round")
      ->check(CLI::Range(0, 100));
  app.add_option("--tmpfs", tmpfs, "a tmpfs directory for the upper bound")
      ->check(CLI::ExistingDirectory);
  app.add_flag("--no-bpf", no_bpf, "leave out the --bpf mount (a kernel without the hook)");
  app.add_option("--json", json_path, "append JSON lines of every figure to this file");
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGPIPE, SIG_IGN);

  struct statfs sfs;
  if (::statfs(tmpfs.c_str(), &sfs) != 0 || sfs.f_type != kTmpfsMagic) {
    fmt::print(stderr, "sealfs-cachebench: --tmpfs {} is not on a tmpfs\n", tmpfs);
    return 2;
  }
  try {
    sealfs::it::TempDir local(tmpfs);
    sealfs::it::LocalCluster cluster({.log_level = "warn"});
    auto& coherent = cluster.AddMount({.attr_timeout = 0});
    auto& attr1s = cluster.AddMount({.attr_timeout = 1});
    sealfs::it::FuseMount* bpf = nullptr;
    if (!no_bpf) bpf = &cluster.AddMount({.attr_timeout = 0, .extra_args = {"--bpf"}});
    fmt::print("creating {} files and a {}x{} tree on tmpfs and on sealfs\n", files, tree_dirs,
               tree_files);
    MakeFiles(local.path(), files, tree_dirs, tree_files);
    MakeFiles(coherent.path(), files, tree_dirs, tree_files);

    std::vector<Target> targets;
    targets.push_back({.label = "tmpfs", .root = local.path()});
    targets.push_back({.label = "coherent", .root = coherent.path()});
    targets.push_back({.label = "attr1s", .root = attr1s.path()});
    if (bpf) targets.push_back({.label = "bpf", .root = bpf->path()});
    for (int r = 1; r <= rounds; ++r) {
      fmt::print("round {}/{}\n", r, rounds);
      for (Target& t : targets) {
        HotStats(t, files, seconds);
        for (int w = 0; w < walks; ++w) {
          const std::string tree = t.root / "tree";
          t.walk_seconds["ls_lR"].push_back(TimedCommand({"/bin/ls", "-lR", tree}));
          t.walk_seconds["find"].push_back(TimedCommand({"/usr/bin/find", tree, "-type", "f"}));
        }
      }
      std::fflush(stdout);
    }
    if (bpf) {
      auto stats = sealfs::it::RunCommand(
          {sealfs::it::BinaryPath("sealfs-mount").string(), "--stats", bpf->path().string()},
          std::chrono::seconds(10));
      fmt::print("sealfs-mount --stats {}:\n{}", bpf->path().string(), stats.output);
      // The maps' kernel memory (memlock), pinned under the FUSE connection number.
      struct stat st;
      if (::stat(bpf->path().c_str(), &st) == 0) {
        const std::string pins = fmt::format("/sys/fs/bpf/sealfs/{}", minor(st.st_dev));
        for (const char* map : {"entries", "long_entries", "attrs"}) {
          auto show = sealfs::it::RunCommand(
              {"/usr/sbin/bpftool", "map", "show", "pinned", pins + "/" + map},
              std::chrono::seconds(10));
          fmt::print("{}", show.output);
        }
      }
    }

    std::map<std::string, Measurement> hot;
    for (Target& t : targets) {
      Report report("sealfs-cachebench", t.label);
      Measurement m{.phase = "stat_hot",
                    .ops = t.stats,
                    .seconds = t.stat_seconds,
                    .p50_us = t.stat_lat.PercentileUs(0.5),
                    .p99_us = t.stat_lat.PercentileUs(0.99)};
      hot[t.label] = m;
      report.Add(m);
      // The walks: the median run of each.
      for (const auto& [walk, secs] : t.walk_seconds)
        report.Add({.phase = walk,
                    .ops = static_cast<uint64_t>(tree_dirs) * tree_files,
                    .seconds = Median(secs)});
      if (json_path.empty()) continue;
      if (std::string err = report.WriteJson(json_path); !err.empty()) {
        fmt::print(stderr, "sealfs-cachebench: {}\n", err);
        return 1;
      }
    }
    if (bpf) {
      const Measurement& b = hot["bpf"];
      for (const char* other : {"coherent", "attr1s", "tmpfs"}) {
        const Measurement& o = hot[other];
        fmt::print("bpf vs {:<8}: {:.2f}x the stats/s, p50 {:.2f}x, p99 {:.2f}x\n", other,
                   b.OpsPerSecond() / o.OpsPerSecond(), b.p50_us / o.p50_us, b.p99_us / o.p99_us);
      }
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "sealfs-cachebench: {}\n", e.what());
    return 1;
  }
  return 0;
}
