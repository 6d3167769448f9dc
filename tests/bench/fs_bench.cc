// sealfs-fsbench: file system benchmark for one target directory (a sealfs
// mount or a local directory, run side by side by scripts/bench.sh).
//
// Metadata: create, stat, readdir and unlink of --files files, in one
// directory and spread over --spread-dirs directories, on each --threads
// count. Data: sequential write then read of a --size file in --block
// blocks, then --random-reads reads of --random-block bytes. Prints a table
// and JSON lines; removes everything it created under the target.
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <filesystem>
#include <set>

#include "data_phases.h"
#include "meta_phases.h"
#include "report.h"

using namespace sealfs::bench;

namespace {

// Every metadata run holds its directories open; allow a thousand or more.
void RaiseFileLimit() {
  rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sealfs-fsbench: metadata and data benchmark of one directory"};
  std::string dir, label, json_path;
  uint64_t files = 10000, size = 1ull << 30, block = 1ull << 20;
  uint64_t random_reads = 10000, random_block = kPageSize, seed = 1;
  int spread_dirs = 100;
  std::vector<int> threads = {1};
  std::set<std::string> phases = {"meta", "data"};
  bool create_only = false, no_drop = false;
  app.add_option("dir", dir, "target directory (must exist)")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("--label", label, "name of the target in the output (default: dir)");
  app.add_option("--phases", phases, "which phase groups to run: meta, data")
      ->delimiter(',')
      ->check(CLI::IsMember({"meta", "data"}));
  app.add_option("--files", files, "files per metadata run")->check(CLI::Range(1ull, 100000000ull));
  app.add_option("--spread-dirs", spread_dirs,
                 "directories of the spread layout (the other layout is one directory)")
      ->check(CLI::Range(2, 100000));
  app.add_option("--threads", threads, "thread counts of the metadata runs, e.g. 1,8,32")
      ->delimiter(',')
      ->check(CLI::Range(1, 1024));
  app.add_flag("--create-only", create_only,
               "run only the create phase of the spread layout, on the first --threads count, "
               "and leave the files (for memory measurements; the caller removes them)");
  app.add_option("--size", size, "data file size (suffixes K, M, G are powers of 1024)")
      ->transform(CLI::AsSizeValue(false));
  app.add_option("--block", block, "sequential block size")->transform(CLI::AsSizeValue(false));
  app.add_option("--random-reads", random_reads, "number of random reads (0 = none)");
  app.add_option("--random-block", random_block, "random read size")
      ->transform(CLI::AsSizeValue(false));
  app.add_flag("--no-drop-caches", no_drop,
               "only drop the file's own cached pages between write and read, never the whole "
               "system's (done by default when running as root)");
  app.add_option("--seed", seed, "seed of the data pattern and of the random offsets");
  app.add_option("--json", json_path, "append the JSON lines to this file instead of stdout");
  CLI11_PARSE(app, argc, argv);
  if (label.empty()) label = dir;
  RaiseFileLimit();
  // A closed output pipe must not stop the run before it cleans up.
  std::signal(SIGPIPE, SIG_IGN);

  // Everything goes under one fresh directory, removed at the end.
  std::string work = fmt::format("{}/fsbench-{}", dir, getpid());
  std::error_code ec;
  if (!std::filesystem::create_directory(work, ec)) {
    fmt::print(stderr, "sealfs-fsbench: cannot create {}: {}\n", work,
               ec ? ec.message() : "it exists");
    return 1;
  }

  Report report("sealfs-fsbench", label);
  std::string err;
  if (create_only) {
    err = RunMetaPhases({.root = work + "/create-only",
                         .files = files,
                         .dirs = spread_dirs,
                         .threads = threads.front(),
                         .create_only = true},
                        &report);
  } else if (phases.count("meta")) {
    for (int dirs : {1, spread_dirs}) {
      for (int t : threads) {
        err = RunMetaPhases({.root = fmt::format("{}/{}dirs-{}threads", work, dirs, t),
                             .files = files,
                             .dirs = dirs,
                             .threads = t},
                            &report);
        if (!err.empty()) break;
      }
      if (!err.empty()) break;
    }
  }
  if (err.empty() && !create_only && phases.count("data")) {
    err = RunDataPhases({.path = work + "/data",
                         .size = size,
                         .block = block,
                         .random_reads = random_reads,
                         .random_block = random_block,
                         .drop_system_caches = !no_drop && geteuid() == 0,
                         .seed = seed},
                        &report);
  }
  if (!create_only) {
    if (rmdir(work.c_str()) != 0 && err.empty())
      err = fmt::format("rmdir {}: {}", work, std::strerror(errno));
  }

  if (std::string json_err = report.WriteJson(json_path); !json_err.empty()) {
    fmt::print(stderr, "sealfs-fsbench: {}\n", json_err);
    if (err.empty()) return 1;
  }
  if (!err.empty()) {
    fmt::print(stderr, "sealfs-fsbench: {}: {}\n", label, err);
    return 1;
  }
  if (create_only) fmt::print("files left in {}\n", work);
  return 0;
}
