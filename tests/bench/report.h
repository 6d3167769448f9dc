// Report: the results of one benchmark run against one target, printed as a
// table while the run goes and as JSON lines (one object per measurement) at
// the end, for scripts to compare targets.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace sealfs::bench {

struct Measurement {
  std::string phase;   // "create", "seq_write", "ping", ...
  std::string layout;  // e.g. "1dir", "100dirs"; empty when it does not apply
  int threads = 1;     // workers (requests in flight for the RPC benchmark)
  uint64_t ops = 0;
  uint64_t bytes = 0;  // 0 for phases that move no data
  double seconds = 0;
  double p50_us = 0;  // per-operation latency; 0 when not measured
  double p99_us = 0;
  // Further figures of the tool's own, by name (JSON only).
  std::vector<std::pair<std::string, double>> extra;

  double OpsPerSecond() const { return seconds > 0 ? static_cast<double>(ops) / seconds : 0; }
  double MibPerSecond() const {
    return seconds > 0 ? static_cast<double>(bytes) / (1 << 20) / seconds : 0;
  }
};

class Report {
 public:
  // `tool` names the program ("sealfs-fsbench"), `target` what it measured
  // (a label such as "sealfs" or "local"). `print_rows`: false for a tool
  // that prints its own table.
  Report(std::string tool, std::string target, bool print_rows = true);

  // Records a measurement and prints its table row (with the header first)
  // unless told not to.
  void Add(Measurement m);
  const std::vector<Measurement>& measurements() const { return measurements_; }

  // One JSON object per line, each naming tool and target.
  std::string JsonLines() const;
  // Writes the JSON lines to `path` (appending), or to stdout when empty.
  // Returns an error message naming the file, or "" on success.
  std::string WriteJson(const std::string& path) const;

 private:
  std::string tool_;
  std::string target_;
  bool print_rows_;
  std::vector<Measurement> measurements_;
};

}  // namespace sealfs::bench
