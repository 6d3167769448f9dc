// sealfs-migratebench: adding a server to a full cluster under a live
// workload (docs/benchmarks.md, docs/operations.md "Adding servers").
//
// In one run: starts three sealfs-servers on 127.0.0.1 (state under --dir, a
// real disk, not tmpfs; the cluster secret made by `sealfs-loader secret
// new`), mounts the cluster, fills it with --files files (--total bytes) and
// syncs the disk. A mixed workload (stat, small checked reads of those files,
// small overwrites of files of its own, create+unlink) runs for
// --baseline-seconds; then a fourth server is started, the cluster file lists
// it, `sealfs-loader apply --no-wait` publishes it, and `sealfs-loader status
// --json` is polled until no chunk moves any more, the workload running
// throughout; then the workload runs --after-seconds more on four servers.
// Then, on a fresh cluster filled the same way, the same move without any
// workload (the quiet move). Checks at the end: every byte of the files (or
// every --verify-every'th file) and of the workload's own files, every chunk
// file where the new placement puts it, sealfs-fsck clean. Prints the
// migration's throughput, the workload's ops/s before, during and after, and
// their ratios. Stops what it started (fusermount3 -u, servers by pid) and
// removes its directories; if it is killed, the integration tests' Janitor
// process (support/janitor.h) does.
#include <fmt/format.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "cluster_config.h"
#include "cpu_usage.h"
#include "janitor.h"
#include "local_cluster.h"
#include "migrate_workload.h"
#include "placement.h"
#include "report.h"

using namespace sealfs::bench;
namespace fs = std::filesystem;
using sealfs::it::LocalCluster;

namespace {

constexpr long kTmpfsMagic = 0x01021994;
constexpr long kExt4Magic = 0xEF53;
constexpr double kMiB = 1 << 20;

struct Args {
  uint64_t files = 10000;
  uint64_t total = 2ull << 30;
  int dirs = 100;
  int fill_threads = 4;
  int threads = 4;
  std::vector<int> mix = {40, 30, 20, 10};
  uint64_t io_size = 4096;
  int hot_files = 16;
  uint64_t hot_size = 64 << 10;
  double warmup_seconds = 2;
  double baseline_seconds = 30;
  double after_seconds = 30;
  int poll_ms = 250;
  double move_timeout = 1800;
  double attr_timeout = 0;
  int mount_timeout_ms = 3000;
  std::optional<uint64_t> chunk_size;
  uint64_t migration_rate_mib = 0;
  bool quiet = true;
  bool fsck = true;
  uint64_t verify_every = 1;
  std::string dir = "/var/tmp";
  uint64_t seed = 1;
  std::string json_path;
};

// A failed check: the run reports it loudly and exits 1 (after cleaning up).
struct CheckFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// --- sealfs-loader status --json ------------------------------------------

struct ServerState {
  int id = 0;
  bool reachable = false;
  uint64_t version = 0, chunks = 0, chunk_bytes = 0, outgoing_chunks = 0, outgoing_bytes = 0;
  bool migrating = false;
};

struct ClusterStatus {
  uint64_t membership_version = 0;
  std::vector<ServerState> servers;
  uint64_t outgoing_chunks() const {
    uint64_t n = 0;
    for (const auto& s : servers) n += s.outgoing_chunks;
    return n;
  }
  uint64_t outgoing_bytes() const {
    uint64_t n = 0;
    for (const auto& s : servers) n += s.outgoing_bytes;
    return n;
  }
  int migrating() const {
    int n = 0;
    for (const auto& s : servers) n += s.migrating ? 1 : 0;
    return n;
  }
  // Every server answers on the newest version, none pulls, none holds a
  // chunk that belongs elsewhere.
  bool Settled(uint64_t version) const {
    if (servers.empty() || membership_version < version) return false;
    for (const auto& s : servers) {
      if (!s.reachable || s.version != membership_version || s.migrating) return false;
    }
    return outgoing_chunks() == 0;
  }
};

// `"name": <value>` in one line of the loader's JSON (its output has one
// server object per line).
std::optional<std::string> JsonField(const std::string& line, const std::string& name) {
  const std::string key = "\"" + name + "\": ";
  const size_t at = line.find(key);
  if (at == std::string::npos) return std::nullopt;
  const size_t begin = at + key.size();
  const size_t end = line.find_first_of(",}", begin);
  return line.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

uint64_t JsonNumber(const std::string& line, const std::string& name) {
  auto v = JsonField(line, name);
  return v ? std::stoull(*v) : 0;
}

std::optional<ClusterStatus> ParseStatus(const std::string& json) {
  ClusterStatus st;
  std::istringstream in(json);
  std::string line;
  bool head = false;
  while (std::getline(in, line)) {
    if (auto v = JsonField(line, "membership_version")) {
      st.membership_version = std::stoull(*v);
      head = true;
    }
    if (!JsonField(line, "id")) continue;
    ServerState s;
    s.id = static_cast<int>(JsonNumber(line, "id"));
    s.reachable = JsonField(line, "reachable") == "true";
    if (s.reachable) {
      s.version = JsonNumber(line, "version");
      s.chunks = JsonNumber(line, "chunks");
      s.chunk_bytes = JsonNumber(line, "chunk_bytes");
      s.migrating = JsonField(line, "migrating") == "true";
      s.outgoing_chunks = JsonNumber(line, "outgoing_chunks");
      s.outgoing_bytes = JsonNumber(line, "outgoing_bytes");
    }
    st.servers.push_back(s);
  }
  if (!head || st.servers.empty()) return std::nullopt;
  return st;
}

std::optional<ClusterStatus> QueryStatus(LocalCluster& cluster) {
  auto r = cluster.Loader({"status", "--json", cluster.config_path().string()},
                          std::chrono::seconds(30));
  if (r.timed_out) return std::nullopt;
  try {
    return ParseStatus(r.output);
  } catch (const std::exception&) {  // a number that does not parse
    return std::nullopt;
  }
}

// --- the move -------------------------------------------------------------

struct MoveResult {
  int added = 0;
  uint64_t version = 0;
  double add_seconds = 0;    // starting the fourth server (cluster file written)
  double apply_seconds = 0;  // sealfs-loader apply --no-wait
  double seconds = 0;        // from apply's start to the first poll that saw it settled
  double last_busy = 0;      // ... to the start of the last poll that saw chunks moving
  uint64_t max_outgoing_chunks = 0, max_outgoing_bytes = 0;  // status --json (disk blocks)
  uint64_t pulled_chunks = 0, pulled_bytes = 0;              // the servers' logs (bytes copied)
  bool logs_found = false;
  int polls = 0;
  uint64_t new_server_chunks = 0, new_server_bytes = 0;  // its chunk files at the end (sizes)
};

// The servers' own count of what they pulled for `version`: the line
// "all chunks moved here for membership version V (N chunks, B bytes pulled)"
// of every server's log that has one, summed. False while the log of server
// `added` has none.
bool PulledFromLogs(LocalCluster& cluster, uint64_t version, int added, uint64_t* chunks,
                    uint64_t* bytes) {
  const std::regex line(fmt::format(
      R"(all chunks moved here for membership version {} \((\d+) chunks, (\d+) bytes pulled\))",
      version));
  *chunks = *bytes = 0;
  bool added_found = false;
  for (int id = 1; id <= cluster.server_count(); ++id) {
    std::ifstream in(cluster.dir() / fmt::format("server{}.log", id));
    bool found = false;
    uint64_t c = 0, b = 0;
    for (std::string l; std::getline(in, l);) {
      std::smatch m;
      if (std::regex_search(l, m, line)) {
        found = true;
        c = std::stoull(m[1]);
        b = std::stoull(m[2]);
      }
    }
    if (!found) continue;
    if (id == added) added_found = true;
    *chunks += c;
    *bytes += b;
  }
  return added_found;
}

std::string Mib(double bytes) { return fmt::format("{:.1f} MiB", bytes / kMiB); }

// Starts the next server with a cluster file that lists it (the others go on
// with the membership they have until apply).
MoveResult AddServer(LocalCluster& cluster, const Args& args) {
  MoveResult r;
  auto before = QueryStatus(cluster);
  if (!before || !before->Settled(before->membership_version))
    throw std::runtime_error("the cluster is not settled before the move");
  r.version = before->membership_version + 1;
  const Clock::time_point t = Clock::now();
  r.added = cluster.AddServer();
  r.add_seconds = std::chrono::duration<double>(Clock::now() - t).count();
  if (args.migration_rate_mib > 0) {
    auto rate = cluster.Loader({"migration", "rate", std::to_string(args.migration_rate_mib),
                                cluster.config_path().string()});
    if (rate.status != 0) throw std::runtime_error("sealfs-loader migration rate: " + rate.output);
  }
  return r;
}

// Publishes the cluster file (sealfs-loader apply --no-wait) and polls
// sealfs-loader status --json until every chunk is where the new placement
// puts it. `check` is called at every poll (it throws to stop the wait).
void ApplyAndWait(LocalCluster& cluster, const Args& args, const std::function<void()>& check,
                  MoveResult* r) {
  const std::string file = cluster.config_path().string();
  const Clock::time_point start = Clock::now();
  auto applied = cluster.Loader({"apply", "--no-wait", file});
  r->apply_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (applied.status != 0)
    throw std::runtime_error("sealfs-loader apply --no-wait failed:\n" + applied.output);
  std::istringstream lines(applied.output);
  for (std::string l; std::getline(lines, l);) fmt::print("  | {}\n", l);

  const auto timeout = std::chrono::duration<double>(args.move_timeout);
  Clock::time_point last_line = start;
  for (;;) {
    check();
    const Clock::time_point poll = Clock::now();
    auto st = QueryStatus(cluster);
    const Clock::time_point now = Clock::now();
    ++r->polls;
    const double elapsed = std::chrono::duration<double>(now - start).count();
    if (st) {
      r->max_outgoing_chunks = std::max(r->max_outgoing_chunks, st->outgoing_chunks());
      r->max_outgoing_bytes = std::max(r->max_outgoing_bytes, st->outgoing_bytes());
      if (st->Settled(r->version)) {
        r->seconds = elapsed;
        break;
      }
      r->last_busy = std::chrono::duration<double>(poll - start).count();
      if (now - last_line >= std::chrono::seconds(5)) {
        fmt::print("  {:6.1f} s: {} chunks ({}) still to move, {} servers pulling\n", elapsed,
                   st->outgoing_chunks(), Mib(static_cast<double>(st->outgoing_bytes())),
                   st->migrating());
        std::fflush(stdout);
        last_line = now;
      }
    }
    if (now - start > timeout)
      throw std::runtime_error(fmt::format("the move did not end within {} s", args.move_timeout));
    std::this_thread::sleep_for(std::chrono::milliseconds(args.poll_ms));
  }
  // The servers log their totals just after they stop reporting a migration.
  for (int i = 0; i < 50 && !r->logs_found; ++i) {
    r->logs_found =
        PulledFromLogs(cluster, r->version, r->added, &r->pulled_chunks, &r->pulled_bytes);
    if (!r->logs_found) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  fmt::print("  settled after {:.1f} s ({} polls)\n", r->seconds, r->polls);
}

// --- checks ---------------------------------------------------------------

struct ChunkCensus {
  std::map<int, std::pair<uint64_t, uint64_t>> per_server;  // id -> chunk files, bytes (sizes)
  uint64_t misplaced = 0;
  std::string first_misplaced;
};

// Every chunk file of every server, and whether the cluster file's placement
// puts it there.
ChunkCensus CountChunks(LocalCluster& cluster) {
  auto config = sealfs::LoadClusterConfig(cluster.config_path().string());
  if (!config.ok()) throw std::runtime_error(config.status().ToString());
  sealfs::Placement placement(*config);
  ChunkCensus c;
  for (int id = 1; id <= cluster.server_count(); ++id) {
    auto& [chunks, bytes] = c.per_server[id];
    const fs::path dir = cluster.dir() / fmt::format("s{}", id) / "chunks";
    if (!fs::exists(dir)) continue;
    for (const auto& ino_dir : fs::directory_iterator(dir)) {
      const uint64_t ino = std::stoull(ino_dir.path().filename().string(), nullptr, 16);
      for (const auto& chunk : fs::directory_iterator(ino_dir.path())) {
        const std::string name = chunk.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;  // .incoming
        std::error_code ec;
        const uint64_t size = fs::file_size(chunk.path(), ec);
        if (ec) continue;  // removed meanwhile
        ++chunks;
        bytes += size;
        if (placement.ChunkServer(ino, std::stoull(name)) != id) {
          if (c.misplaced++ == 0) c.first_misplaced = chunk.path().string();
        }
      }
    }
  }
  return c;
}

std::string CensusLine(const ChunkCensus& c) {
  std::string out;
  for (const auto& [id, cb] : c.per_server)
    out += fmt::format("{}server {}: {} chunks, {}", out.empty() ? "" : "; ", id, cb.first,
                       Mib(static_cast<double>(cb.second)));
  return out;
}

// Checks what a settled move must leave: nothing misplaced, nothing still to
// hand over. Returns the census.
ChunkCensus CheckPlacement(LocalCluster& cluster, MoveResult* move) {
  ChunkCensus c = CountChunks(cluster);
  if (c.misplaced)
    throw CheckFailed(
        fmt::format("{} chunk files are not where the new placement puts them (the "
                    "first: {})",
                    c.misplaced, c.first_misplaced));
  move->new_server_chunks = c.per_server[move->added].first;
  move->new_server_bytes = c.per_server[move->added].second;
  auto st = QueryStatus(cluster);
  if (!st || !st->Settled(move->version))
    throw CheckFailed("sealfs-loader status no longer shows the move settled");
  return c;
}

void VerifyData(const DataSet& data, const Args& args, const char* when) {
  const PhaseResult v = data.Verify(args.fill_threads, args.verify_every);
  if (!v.error.empty()) throw CheckFailed(fmt::format("{}: {}", when, v.error));
  const uint64_t checked = v.latencies.count();
  uint64_t bytes = 0;
  for (uint64_t f = 0; f < data.files(); f += std::max<uint64_t>(args.verify_every, 1))
    bytes += data.size(f);
  fmt::print("  {}: {} files ({}) read back intact in {:.1f} s ({:.1f} MiB/s)\n", when, checked,
             Mib(static_cast<double>(bytes)), v.seconds, bytes / kMiB / v.seconds);
}

void StopAndFsck(LocalCluster& cluster, const Args& args) {
  cluster.UnmountAll();      // fusermount3 -u
  cluster.StopAllServers();  // SIGTERM, by pid
  if (!args.fsck) return;
  const Clock::time_point t = Clock::now();
  auto fsck = cluster.Fsck();
  if (fsck.status != 0)
    throw CheckFailed(fmt::format("sealfs-fsck found problems (status {}):\n{}", fsck.status,
                                  fsck.output.substr(0, 4000)));
  fmt::print("  sealfs-fsck: clean ({:.1f} s)\n",
             std::chrono::duration<double>(Clock::now() - t).count());
}

// The checks after a move: chunk placement, every data byte, fsck of the
// stopped cluster. Returns the census.
ChunkCensus CheckAfterMove(LocalCluster& cluster, const Args& args, const DataSet& data,
                           MoveResult* move) {
  ChunkCensus census = CheckPlacement(cluster, move);
  fmt::print("  every chunk file where membership version {} puts it: {}\n", move->version,
             CensusLine(census));
  VerifyData(data, args, "data files");
  StopAndFsck(cluster, args);
  return census;
}

// --- CPU ------------------------------------------------------------------

struct CpuSample {
  double busy = 0;     // all CPUs
  double servers = 0;  // the sealfs-server processes
  double mount = 0;    // sealfs-mount
};

CpuSample SampleCpu(LocalCluster& cluster, pid_t mount_pid) {
  CpuSample s;
  for (double b : CpuBusySeconds()) s.busy += b;
  for (int id = 1; id <= cluster.server_count(); ++id) {
    try {
      if (cluster.ServerRunning(id)) s.servers += ProcessCpuSeconds(cluster.ServerPid(id));
    } catch (const std::exception&) {
    }
  }
  try {
    s.mount = ProcessCpuSeconds(mount_pid);
  } catch (const std::exception&) {
  }
  return s;
}

// --- the phases -----------------------------------------------------------

enum Phase { kBaseline, kAdding, kMoving, kAfter, kPhaseCount };
constexpr std::array<const char*, kPhaseCount> kPhaseNames = {"baseline", "adding", "moving",
                                                              "after"};

struct PhaseFigures {
  double seconds = 0;
  CpuSample cpu;  // used during the phase
  uint64_t ops[kOpTypes + 1] = {};
  double p50_us = 0, p99_us = 0;
  double OpsPerSecond(int type = kOpTypes) const { return seconds > 0 ? ops[type] / seconds : 0; }
};

struct FillFigures {
  uint64_t files = 0, bytes = 0;
  double seconds = 0;
};

struct ContendedResult {
  FillFigures fill;
  std::array<PhaseFigures, kPhaseCount> phases;
  MoveResult move;
  ChunkCensus census;
};

struct QuietResult {
  FillFigures fill;
  MoveResult move;
  ChunkCensus census;
};

sealfs::it::ClusterOptions ClusterOpts(const Args& args) {
  return {.servers = 3, .chunk_size = args.chunk_size, .log_level = "info"};
}

FillFigures Fill(const DataSet& data, const Args& args) {
  fmt::print("  filling: {} files, {} in {} directories, {} threads\n", data.files(),
             Mib(static_cast<double>(data.total_bytes())), args.dirs, args.fill_threads);
  std::fflush(stdout);
  const PhaseResult w = data.Write(args.fill_threads);
  if (!w.error.empty()) throw std::runtime_error("filling: " + w.error);
  FillFigures f{.files = data.files(), .bytes = data.total_bytes(), .seconds = w.seconds};
  fmt::print("  filled in {:.1f} s: {:.1f} MiB/s, {:.0f} files/s\n", w.seconds,
             f.bytes / kMiB / w.seconds, f.files / w.seconds);
  // The servers' chunk files reach the disk now, not during the phases that
  // follow (ext4 would write them back for half a minute or more).
  const Clock::time_point t = Clock::now();
  ::sync();
  fmt::print("  sync(2): {:.1f} s\n", std::chrono::duration<double>(Clock::now() - t).count());
  return f;
}

void SleepWatching(double seconds, const MixedWorkload& workload) {
  const Clock::time_point end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                   std::chrono::duration<double>(seconds));
  while (Clock::now() < end) {
    if (workload.failed()) throw CheckFailed("the workload failed: " + workload.error());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void PrintLogTails(LocalCluster& cluster) {
  fmt::print(stderr, "--- log tails ---\n{}", cluster.LogTails(40));
}

// Starts a 3-server cluster, mounts and fills it (its figures in *fill),
// runs move(cluster, mount, data), which adds the fourth server (into
// *move_result), then the checks after the move. Prints the servers' and the
// mount's log tails if anything throws.
template <class Move>
ChunkCensus OnFilledCluster(const Args& args, const char* title, FillFigures* fill,
                            MoveResult* move_result, Move move) {
  fmt::print("\n== {} ==\n", title);
  LocalCluster cluster(ClusterOpts(args));
  fmt::print("  cluster state in {} (servers on 127.0.0.1)\n", cluster.dir().string());
  try {
    auto& mount =
        cluster.AddMount({.timeout_ms = args.mount_timeout_ms, .attr_timeout = args.attr_timeout});
    DataSet data(mount.path() / "data", args.files, args.total, args.dirs, args.seed);
    *fill = Fill(data, args);
    move(cluster, mount, data);
    return CheckAfterMove(cluster, args, data, move_result);
  } catch (const std::exception&) {
    PrintLogTails(cluster);
    throw;
  }
}

ContendedResult RunContended(const Args& args) {
  ContendedResult res;
  res.census = OnFilledCluster(
      args, "the move under the workload", &res.fill, &res.move,
      [&](LocalCluster& cluster, auto& mount, DataSet& data) {
        WorkloadOptions wo{.work_root = mount.path() / "work",
                           .threads = args.threads,
                           .io_size = args.io_size,
                           .hot_files = args.hot_files,
                           .hot_size = args.hot_size,
                           .seed = args.seed};
        std::copy(args.mix.begin(), args.mix.end(), wo.mix.begin());
        MixedWorkload workload(data, wo);
        workload.Prepare();
        workload.Start();
        SleepWatching(args.warmup_seconds, workload);

        const pid_t mount_pid = mount.daemon_pid();
        Clock::time_point phase_start;
        CpuSample cpu_start;
        auto begin = [&](Phase p) {
          cpu_start = SampleCpu(cluster, mount_pid);
          phase_start = Clock::now();
          workload.SetPhase(p);
        };
        auto end = [&](Phase p) {
          workload.SetPhase(MixedWorkload::kNoPhase);
          PhaseFigures& f = res.phases[p];
          f.seconds = std::chrono::duration<double>(Clock::now() - phase_start).count();
          const CpuSample now = SampleCpu(cluster, mount_pid);
          f.cpu = {.busy = now.busy - cpu_start.busy,
                   .servers = now.servers - cpu_start.servers,
                   .mount = now.mount - cpu_start.mount};
          fmt::print("  {}: {:.1f} s, {:.0f} ops/s\n", kPhaseNames[p], f.seconds,
                     workload.Count(p) / f.seconds);
          std::fflush(stdout);
        };
        auto check = [&] {
          if (workload.failed()) throw CheckFailed("the workload failed: " + workload.error());
        };

        fmt::print("  workload: {} threads, baseline for {} s\n", args.threads,
                   args.baseline_seconds);
        std::fflush(stdout);
        begin(kBaseline);
        SleepWatching(args.baseline_seconds, workload);
        end(kBaseline);

        begin(kAdding);
        res.move = AddServer(cluster, args);
        end(kAdding);

        begin(kMoving);
        ApplyAndWait(cluster, args, check, &res.move);
        end(kMoving);

        if (args.after_seconds > 0) {
          begin(kAfter);
          SleepWatching(args.after_seconds, workload);
          end(kAfter);
        }
        workload.Stop();
        check();
        for (int p = 0; p < kPhaseCount; ++p) {
          PhaseFigures& f = res.phases[p];
          for (int t = 0; t <= kOpTypes; ++t) f.ops[t] = workload.Count(p, t);
          Latencies all = workload.Merged(p);
          f.p50_us = all.PercentileUs(0.5);
          f.p99_us = all.PercentileUs(0.99);
        }

        fmt::print("  checking\n");
        if (std::string bad = workload.VerifyHotFiles(); !bad.empty())
          throw CheckFailed("the workload's files: " + bad);
        fmt::print("  the workload's {} files read back as last written\n",
                   args.threads * args.hot_files);
      });
  return res;
}

QuietResult RunQuiet(const Args& args) {
  QuietResult res;
  res.census = OnFilledCluster(args, "the quiet move (a fresh cluster, no workload)", &res.fill,
                               &res.move, [&](LocalCluster& cluster, auto&, DataSet&) {
                                 res.move = AddServer(cluster, args);
                                 ApplyAndWait(
                                     cluster, args, [] {}, &res.move);
                               });
  return res;
}

// --- the report -----------------------------------------------------------

// The bytes the move carried: the servers' own count (bytes copied), else
// the chunk files the new server holds at the end.
double MovedBytes(const MoveResult& m) {
  return m.logs_found ? static_cast<double>(m.pulled_bytes)
                      : static_cast<double>(m.new_server_bytes);
}

std::string Ratio(double a, double b) { return b > 0 ? fmt::format("{:.2f}", a / b) : "-"; }

void PrintMove(const char* name, const MoveResult& m) {
  const double moved = MovedBytes(m);
  fmt::print("{}: {} in {:.1f} s = {:.1f} MiB/s, {:.0f} chunks/s", name, Mib(moved), m.seconds,
             moved / kMiB / m.seconds, m.pulled_chunks / m.seconds);
  fmt::print(
      " ({} chunks pulled by the servers' logs{}; at most {} chunks, {} on disk to move "
      "by status --json; server {} holds {} chunk files, {} at the end; apply --no-wait "
      "took {:.2f} s; still moving at the poll {:.1f} s after apply, settled at {:.1f} s; "
      "server start {:.1f} s)\n",
      m.pulled_chunks, m.logs_found ? "" : " NOT FOUND, bytes from the chunk files",
      m.max_outgoing_chunks, Mib(static_cast<double>(m.max_outgoing_bytes)), m.added,
      m.new_server_chunks, Mib(static_cast<double>(m.new_server_bytes)), m.apply_seconds,
      m.last_busy, m.seconds, m.add_seconds);
}

void PrintReport(const Args& args, const ContendedResult& c, const std::optional<QuietResult>& q) {
  fmt::print("\n== sealfs-migratebench results ==\n");
  fmt::print("data: {} files, {} ({} on average), in {} directories; chunk size {}\n", c.fill.files,
             Mib(static_cast<double>(c.fill.bytes)),
             fmt::format("{:.0f} KiB", c.fill.bytes / 1024.0 / std::max<uint64_t>(c.fill.files, 1)),
             args.dirs,
             args.chunk_size ? Mib(static_cast<double>(*args.chunk_size)) : "4.0 MiB (default)");
  fmt::print("fill (3 servers, {} threads): {:.1f} s, {:.1f} MiB/s\n", args.fill_threads,
             c.fill.seconds, c.fill.bytes / kMiB / c.fill.seconds);
  fmt::print(
      "workload: {} threads, weights stat {} / read {} / write {} / create+unlink {}, {} B "
      "reads and writes, --attr-timeout {}\n\n",
      args.threads, args.mix[0], args.mix[1], args.mix[2], args.mix[3], args.io_size,
      args.attr_timeout);
  fmt::print("{:<9} {:>7} {:>8} {:>8} {:>7} {:>7} {:>7} {:>8} {:>8} {:>9} {:>9} {:>8} {:>7}\n",
             "phase", "seconds", "ops", "ops/s", "stat/s", "read/s", "write/s", "cr+ul/s", "p50 us",
             "p99 us", "CPUs busy", "servers", "mount");
  for (int p = 0; p < kPhaseCount; ++p) {
    const PhaseFigures& f = c.phases[p];
    if (f.seconds <= 0) continue;
    fmt::print(
        "{:<9} {:>7.1f} {:>8} {:>8.0f} {:>7.0f} {:>7.0f} {:>7.0f} {:>8.0f} {:>8.0f} {:>9.0f} "
        "{:>9.2f} {:>8.2f} {:>7.2f}\n",
        kPhaseNames[p], f.seconds, f.ops[kOpTypes], f.OpsPerSecond(), f.OpsPerSecond(kStat),
        f.OpsPerSecond(kRead), f.OpsPerSecond(kWrite), f.OpsPerSecond(kCreateUnlink), f.p50_us,
        f.p99_us, f.cpu.busy / f.seconds, f.cpu.servers / f.seconds, f.cpu.mount / f.seconds);
  }
  fmt::print(
      "(CPUs busy: all CPUs' busy time over the phase's wall time, of {}; servers, mount: CPU "
      "time of the sealfs-server processes and of sealfs-mount per second)\n\n",
      std::thread::hardware_concurrency());
  PrintMove("migration under the workload", c.move);
  if (q) PrintMove("quiet migration (no workload)", q->move);

  const PhaseFigures& base = c.phases[kBaseline];
  const PhaseFigures& moving = c.phases[kMoving];
  const PhaseFigures& after = c.phases[kAfter];
  fmt::print("\nratios (same run):\n");
  fmt::print(
      "  workload ops/s during the move / baseline: {} (stat {}, read {}, write {}, "
      "create+unlink {})\n",
      Ratio(moving.OpsPerSecond(), base.OpsPerSecond()),
      Ratio(moving.OpsPerSecond(kStat), base.OpsPerSecond(kStat)),
      Ratio(moving.OpsPerSecond(kRead), base.OpsPerSecond(kRead)),
      Ratio(moving.OpsPerSecond(kWrite), base.OpsPerSecond(kWrite)),
      Ratio(moving.OpsPerSecond(kCreateUnlink), base.OpsPerSecond(kCreateUnlink)));
  fmt::print("  latency during the move / baseline: p50 {}, p99 {}\n",
             Ratio(moving.p50_us, base.p50_us), Ratio(moving.p99_us, base.p99_us));
  if (after.seconds > 0)
    fmt::print("  workload ops/s after the move (4 servers) / baseline (3 servers): {}\n",
               Ratio(after.OpsPerSecond(), base.OpsPerSecond()));
  if (q) {
    const double contended = MovedBytes(c.move) / c.move.seconds;
    const double quiet = MovedBytes(q->move) / q->move.seconds;
    fmt::print("  migration MiB/s under the workload / quiet: {}\n", Ratio(contended, quiet));
    fmt::print("  move duration under the workload / quiet: {}\n",
               Ratio(c.move.seconds, q->move.seconds));
  }
  fmt::print(
      "checks: every data file's bytes, the workload's files, chunk placement{}: all "
      "passed\n",
      args.fsck ? ", sealfs-fsck" : "");
}

std::string WriteJson(const Args& args, const ContendedResult& c,
                      const std::optional<QuietResult>& q) {
  Report report("sealfs-migratebench", "sealfs", /*print_rows=*/false);
  report.Add(
      {.phase = "fill", .ops = c.fill.files, .bytes = c.fill.bytes, .seconds = c.fill.seconds});
  for (int p = 0; p < kPhaseCount; ++p) {
    const PhaseFigures& f = c.phases[p];
    if (f.seconds <= 0) continue;
    Measurement m{.phase = std::string("workload_") + kPhaseNames[p],
                  .threads = args.threads,
                  .ops = f.ops[kOpTypes],
                  .seconds = f.seconds,
                  .p50_us = f.p50_us,
                  .p99_us = f.p99_us};
    for (int t = 0; t < kOpTypes; ++t)
      m.extra.push_back({std::string(kOpNames[t]) + "_ops", static_cast<double>(f.ops[t])});
    m.extra.push_back({"cpus_busy", f.cpu.busy / f.seconds});
    m.extra.push_back({"servers_cpu", f.cpu.servers / f.seconds});
    m.extra.push_back({"mount_cpu", f.cpu.mount / f.seconds});
    report.Add(std::move(m));
  }
  auto move = [&](const char* name, const MoveResult& m) {
    report.Add({.phase = name,
                .ops = m.pulled_chunks,
                .bytes = static_cast<uint64_t>(MovedBytes(m)),
                .seconds = m.seconds,
                .extra = {{"max_outgoing_bytes", static_cast<double>(m.max_outgoing_bytes)},
                          {"new_server_bytes", static_cast<double>(m.new_server_bytes)},
                          {"new_server_chunks", static_cast<double>(m.new_server_chunks)}}});
  };
  move("migration_contended", c.move);
  if (q) move("migration_quiet", q->move);
  return report.WriteJson(args.json_path);
}

void PrintMachine(const Args& args) {
  utsname u{};
  ::uname(&u);
  uint64_t mem_kib = 0;
  std::ifstream meminfo("/proc/meminfo");
  for (std::string l; std::getline(meminfo, l);) {
    if (l.rfind("MemTotal:", 0) == 0) mem_kib = std::stoull(l.substr(9));
  }
  struct statfs sfs {};
  ::statfs(args.dir.c_str(), &sfs);
  const std::string fs_type =
      sfs.f_type == kExt4Magic ? "ext2/3/4" : fmt::format("0x{:x}", sfs.f_type);
  fmt::print("machine: {} CPUs, {:.1f} GiB RAM, kernel {}; state under {} ({})\n",
             std::thread::hardware_concurrency(), mem_kib / 1048576.0, u.release, args.dir,
             fs_type);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "sealfs-migratebench: adds a fourth server to a filled 3-server cluster on 127.0.0.1 "
      "under a live mixed workload (sealfs-loader apply --no-wait, then status --json until the "
      "chunks have moved), then the same move on a fresh cluster without the workload; "
      "reports the migration's MiB/s, the workload's ops/s before, during and after, their "
      "ratios, and checks every byte"};
  Args args;
  app.option_defaults()->always_capture_default();
  app.add_option("--files", args.files, "files of the data set")
      ->check(CLI::Range(1ull, 10000000ull));
  app.add_option("--total", args.total,
                 "bytes of the data set (suffixes K, M, G are powers of 1024); file sizes are "
                 "uniform between half and 1.5 times the mean")
      ->transform(CLI::AsSizeValue(false));
  app.add_option("--dirs", args.dirs, "directories the files are spread over")
      ->check(CLI::Range(1, 100000));
  app.add_option("--fill-threads", args.fill_threads, "threads writing and verifying the data")
      ->check(CLI::Range(1, 256));
  app.add_option("--threads", args.threads, "workload threads")->check(CLI::Range(1, 256));
  app.add_option("--mix", args.mix,
                 "workload weights: stat,read,write,create+unlink (stat and read: data files, "
                 "reads checked; write: overwrites in the thread's own files)")
      ->delimiter(',')
      ->expected(4)
      ->check(CLI::Range(0, 1000));
  app.add_option("--io-size", args.io_size, "bytes per workload read and write")
      ->transform(CLI::AsSizeValue(false));
  app.add_option("--hot-files", args.hot_files, "files each workload thread overwrites")
      ->check(CLI::Range(1, 10000));
  app.add_option("--hot-size", args.hot_size, "size of those files")
      ->transform(CLI::AsSizeValue(false));
  app.add_option("--warmup-seconds", args.warmup_seconds, "workload before the baseline")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--baseline-seconds", args.baseline_seconds, "workload on three servers")
      ->check(CLI::Range(1.0, 3600.0));
  app.add_option("--after-seconds", args.after_seconds,
                 "workload on four servers once the move is over (0: none)")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--poll-ms", args.poll_ms, "pause between two sealfs-loader status --json")
      ->check(CLI::Range(10, 10000));
  app.add_option("--move-timeout", args.move_timeout, "seconds a move may take")
      ->check(CLI::Range(1.0, 86400.0));
  app.add_option("--attr-timeout", args.attr_timeout, "sealfs-mount --attr-timeout (seconds)");
  app.add_option("--mount-timeout-ms", args.mount_timeout_ms, "sealfs-mount --timeout-ms");
  app.add_option("--chunk-size", args.chunk_size,
                 "chunk_size of the cluster file (default: the product's, 4 MiB)")
      ->transform(CLI::AsSizeValue(false));
  app.add_option("--migration-rate", args.migration_rate_mib,
                 "sealfs-loader migration rate MIB before the move (0: no limit)");
  app.add_flag("!--no-quiet", args.quiet, "skip the quiet move on a fresh cluster");
  app.add_flag("!--no-fsck", args.fsck, "skip sealfs-fsck of the stopped clusters");
  app.add_option("--verify-every", args.verify_every,
                 "at the end, read back every Nth data file whole (1: all)")
      ->check(CLI::Range(1ull, 1000000ull));
  app.add_option("--dir", args.dir,
                 "where the clusters keep their state (a real disk: tmpfs is refused)")
      ->check(CLI::ExistingDirectory);
  app.add_option("--seed", args.seed, "seed of the data and of the workload");
  app.add_option("--json", args.json_path, "append JSON lines of every figure to this file");
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGPIPE, SIG_IGN);

  struct statfs sfs {};
  if (::statfs(args.dir.c_str(), &sfs) != 0 || sfs.f_type == kTmpfsMagic) {
    fmt::print(stderr,
               "sealfs-migratebench: --dir {} is on tmpfs (or unreadable); give a "
               "directory on a real disk\n",
               args.dir);
    return 2;
  }
  if (args.mix[0] + args.mix[1] + args.mix[2] + args.mix[3] == 0) {
    fmt::print(stderr, "sealfs-migratebench: --mix gives every operation weight 0\n");
    return 2;
  }
  // LocalCluster keeps its state under $SEALFS_TEST_TMPDIR.
  ::setenv("SEALFS_TEST_TMPDIR", args.dir.c_str(), 1);
  sealfs::it::Janitor::Get();  // before any thread: it forks
  PrintMachine(args);
  std::fflush(stdout);

  try {
    ContendedResult contended = RunContended(args);
    std::optional<QuietResult> quiet;
    if (args.quiet) quiet = RunQuiet(args);
    PrintReport(args, contended, quiet);
    if (!args.json_path.empty()) {
      if (std::string err = WriteJson(args, contended, quiet); !err.empty()) {
        fmt::print(stderr, "sealfs-migratebench: {}\n", err);
        return 1;
      }
    }
  } catch (const CheckFailed& e) {
    fmt::print(stderr, "\nsealfs-migratebench: CHECK FAILED: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "\nsealfs-migratebench: {}\n", e.what());
    return 1;
  }
  return 0;
}
