#include "report.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace sealfs::bench {

namespace {

// Our strings are labels and paths; escape what JSON requires.
std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<int>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// "-" for a figure that does not apply to the phase.
std::string Figure(double v, int precision) {
  return v > 0 ? fmt::format("{:.{}f}", v, precision) : "-";
}

}  // namespace

Report::Report(std::string tool, std::string target, bool print_rows)
    : tool_(std::move(tool)), target_(std::move(target)), print_rows_(print_rows) {}

void Report::Add(Measurement m) {
  if (!print_rows_) {
    measurements_.push_back(std::move(m));
    return;
  }
  if (measurements_.empty()) {
    fmt::print("{} on {}\n", tool_, target_);
    fmt::print("{:<12} {:<8} {:>7} {:>9} {:>9} {:>11} {:>9} {:>10} {:>10}\n", "phase", "layout",
               "threads", "ops", "seconds", "ops/s", "MiB/s", "p50 us", "p99 us");
  }
  fmt::print("{:<12} {:<8} {:>7} {:>9} {:>9.3f} {:>11.0f} {:>9} {:>10} {:>10}\n", m.phase,
             m.layout.empty() ? "-" : m.layout, m.threads, m.ops, m.seconds, m.OpsPerSecond(),
             Figure(m.MibPerSecond(), 1), Figure(m.p50_us, 1), Figure(m.p99_us, 1));
  std::fflush(stdout);
  measurements_.push_back(std::move(m));
}

std::string Report::JsonLines() const {
  std::string out;
  for (const Measurement& m : measurements_) {
    out += fmt::format(
        "{{\"tool\":{},\"target\":{},\"phase\":{},\"layout\":{},\"threads\":{},\"ops\":{},"
        "\"bytes\":{},\"seconds\":{:.6f},\"ops_per_s\":{:.1f},\"mib_per_s\":{:.2f},"
        "\"p50_us\":{:.2f},\"p99_us\":{:.2f}",
        JsonString(tool_), JsonString(target_), JsonString(m.phase), JsonString(m.layout),
        m.threads, m.ops, m.bytes, m.seconds, m.OpsPerSecond(), m.MibPerSecond(), m.p50_us,
        m.p99_us);
    for (const auto& [name, value] : m.extra)
      out += fmt::format(",{}:{:.3f}", JsonString(name), value);
    out += "}\n";
  }
  return out;
}

std::string Report::WriteJson(const std::string& path) const {
  std::string lines = JsonLines();
  if (path.empty()) {
    fmt::print("{}", lines);
    return "";
  }
  FILE* f = std::fopen(path.c_str(), "a");
  if (!f) return fmt::format("--json {}: {}", path, std::strerror(errno));
  bool ok = std::fwrite(lines.data(), 1, lines.size(), f) == lines.size();
  ok = (std::fclose(f) == 0) && ok;
  return ok ? "" : fmt::format("--json {}: write failed", path);
}

}  // namespace sealfs::bench
