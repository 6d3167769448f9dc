// The data set and the live workload of sealfs-migratebench.
//
// DataSet: --files files of known sizes under one directory, spread over
// subdirectories; every byte is a function of (seed, file, offset), so any
// range can be checked without keeping a copy. MixedWorkload: threads that
// stat and read those files (checking every byte read), overwrite ranges of
// small files of their own (kept in memory, checked at the end), and create
// and unlink files, until stopped. Each operation is counted, with its
// latency, under the phase that was current when it started.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "latency.h"
#include "parallel.h"

namespace sealfs::bench {

class DataSet {
 public:
  // Sizes are drawn uniformly from [mean/2, 3*mean/2], mean = total / files.
  DataSet(std::filesystem::path root, uint64_t files, uint64_t total, int dirs, uint64_t seed);

  uint64_t files() const { return sizes_.size(); }
  uint64_t size(uint64_t file) const { return sizes_[file]; }
  uint64_t total_bytes() const { return total_; }
  std::filesystem::path Path(uint64_t file) const;
  // The bytes [offset, offset + out.size()) of `file`; offset a multiple of 8.
  void Pattern(uint64_t file, uint64_t offset, std::span<char> out) const;
  // "" if `got` holds exactly those bytes, else where it first differs.
  std::string Check(uint64_t file, uint64_t offset, std::span<const char> got) const;

  // Makes the directories and writes every file in 1 MiB blocks on `threads`
  // threads; the latencies are per file.
  PhaseResult Write(int threads) const;
  // Reads every `every`th file back whole and checks its size and every byte.
  PhaseResult Verify(int threads, uint64_t every) const;

 private:
  std::filesystem::path root_;
  int dirs_;
  uint64_t seed_;
  uint64_t total_ = 0;
  std::vector<uint64_t> sizes_;
};

enum OpType { kStat, kRead, kWrite, kCreateUnlink, kOpTypes };
inline constexpr std::array<const char*, kOpTypes> kOpNames = {"stat", "read", "write",
                                                               "create_unlink"};

struct WorkloadOptions {
  std::filesystem::path work_root;  // for the workload's own files (created)
  int threads = 4;
  std::array<int, kOpTypes> mix = {40, 30, 20, 10};  // relative weights
  uint64_t io_size = 4096;                           // bytes per read and write
  int hot_files = 16;                                // per thread, overwritten in place
  uint64_t hot_size = 64 * 1024;
  uint64_t seed = 1;
};

class MixedWorkload {
 public:
  static constexpr int kPhases = 8;
  static constexpr int kNoPhase = -1;  // operations are not counted

  MixedWorkload(const DataSet& data, WorkloadOptions options);
  ~MixedWorkload();  // stops the threads
  MixedWorkload(const MixedWorkload&) = delete;
  MixedWorkload& operator=(const MixedWorkload&) = delete;

  // Creates the work directories and every thread's hot files.
  void Prepare();
  void Start();
  // From now on operations count under `phase` (0..kPhases-1, or kNoPhase).
  void SetPhase(int phase) { phase_.store(phase); }
  void Stop();
  // The first error a thread met (it stopped there); "" while none.
  std::string error() const;
  bool failed() const { return failed_.load(); }
  // Every thread's hot files read back as last written; "" or the problem.
  std::string VerifyHotFiles() const;

  // Operations of `type` (or all types with kOpTypes) counted under `phase`.
  uint64_t Count(int phase, int type = kOpTypes) const;
  // Their latencies, merged (the caller takes quantiles).
  Latencies Merged(int phase, int type = kOpTypes) const;

 private:
  struct Thread;
  void Run(Thread& t);
  std::string Step(Thread& t, int type, const std::string& tmp_prefix);
  void Fail(const std::string& message);

  const DataSet& data_;
  WorkloadOptions options_;
  std::vector<std::unique_ptr<Thread>> threads_;
  std::atomic<int> phase_{kNoPhase};
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  mutable std::mutex mu_;
  std::string error_;  // guarded by mu_
};

}  // namespace sealfs::bench
