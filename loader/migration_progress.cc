#include "migration_progress.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <thread>

namespace sealfs {
namespace {

constexpr auto kPoll = std::chrono::milliseconds(500);
constexpr auto kLinePeriod = std::chrono::seconds(5);
constexpr auto kGiveUp = std::chrono::minutes(5);

std::string MiB(uint64_t bytes) { return fmt::format("{:.1f} MiB", bytes / 1048576.0); }

std::string Bar(double fraction) {
  constexpr int kWidth = 30;
  int full = static_cast<int>(fraction * kWidth + 0.5);
  return "[" + std::string(full, '#') + std::string(kWidth - full, '-') + "]";
}

}  // namespace

std::string ProgressLine(const MigrationTotals& t, uint64_t moved, double rate) {
  const uint64_t total = moved + t.outgoing_bytes;
  const bool done = t.migrating == 0 && t.unreachable == 0;
  std::string eta = done       ? "0 s"
                    : rate > 0 ? fmt::format("{:.0f} s", t.outgoing_bytes / rate)
                               : "-";
  return fmt::format(
      "{} {:3.0f}%  {} of {} moved, {} chunks left, {} servers pulling, {}/s, ETA {}{}",
      Bar(total ? static_cast<double>(moved) / total : 1.0), total ? 100.0 * moved / total : 100.0,
      MiB(moved), MiB(total), t.outgoing_chunks, t.migrating, MiB(static_cast<uint64_t>(rate)), eta,
      t.unreachable ? fmt::format(" ({} servers not answering)", t.unreachable) : "");
}

MigrationTotals SumMigration(const std::vector<MemberReport>& reports) {
  MigrationTotals t;
  for (const MemberReport& r : reports) {
    if (!r.reached.ok()) {
      ++t.unreachable;
      continue;
    }
    t.outgoing_chunks += r.status.outgoing_chunks;
    t.outgoing_bytes += r.status.outgoing_bytes;
    t.migrating += r.status.migrating ? 1 : 0;
    t.pulled_bytes += r.status.pulled_bytes;
  }
  return t;
}

bool WaitForMigration(const std::vector<ServerInfo>& servers,
                      const std::vector<ServerInfo>& leaving, std::chrono::milliseconds timeout,
                      bool tty, std::ostream& out) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto last_line = start - kLinePeriod, last_answer = start;
  uint64_t total = 0;  // the most bytes seen still to move
  std::vector<ServerInfo> asked = servers;
  asked.insert(asked.end(), leaving.begin(), leaving.end());
  for (;;) {
    std::vector<MemberReport> reports = SurveyMembers(asked, timeout);
    MigrationTotals t = SumMigration(reports);
    reports.resize(servers.size());
    const int members_unreachable = SumMigration(reports).unreachable;
    const auto now = Clock::now();
    if (members_unreachable < static_cast<int>(servers.size())) last_answer = now;
    if (now - last_answer > kGiveUp) return false;
    total = std::max(total, t.outgoing_bytes);
    const uint64_t moved = total - t.outgoing_bytes;
    const double seconds = std::chrono::duration<double>(now - start).count();
    const double rate = seconds > 0 ? moved / seconds : 0;
    const bool done = t.migrating == 0 && members_unreachable == 0;
    const std::string line = ProgressLine(t, moved, rate);
    if (tty) {
      fmt::print(out, "\r{}", line);
      out.flush();
    } else if (done || now - last_line >= kLinePeriod) {
      fmt::print(out, "{}\n", line);
      last_line = now;
    }
    if (done) {
      if (tty) fmt::print(out, "\n");
      return true;
    }
    std::this_thread::sleep_for(kPoll);
  }
}

}  // namespace sealfs
