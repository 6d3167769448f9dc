#include "status.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <thread>

#include "cluster_config.h"
#include "member_survey.h"
#include "migration_progress.h"

namespace sealfs {
namespace {

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += fmt::format("\\{}", c);
    else if (static_cast<unsigned char>(c) < 0x20)
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
    else
      out += c;
  }
  return out + "\"";
}

std::string Size(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 5) v /= 1024, ++u;
  return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, units[u]);
}

void PrintJson(const std::vector<MemberReport>& reports, uint64_t newest, std::ostream& out) {
  fmt::print(out, "{{\"membership_version\": {}, \"servers\": [", newest);
  for (size_t i = 0; i < reports.size(); ++i) {
    const MemberReport& r = reports[i];
    fmt::print(out, "{}\n  {{\"id\": {}, \"address\": {}, \"port\": {}, \"reachable\": {}",
               i ? "," : "", r.server.id, JsonString(r.server.address), r.server.port,
               r.reached.ok());
    if (r.reached.ok()) {
      fmt::print(out,
                 ", \"version\": {}, \"bytes_total\": {}, \"bytes_free\": {}, \"inodes\": {}, "
                 "\"chunks\": {}, \"chunk_bytes\": {}, \"migrating\": {}, "
                 "\"outgoing_chunks\": {}, \"outgoing_bytes\": {}, \"leaving\": {}, "
                 "\"metadata_handed_over\": {}, \"importing_metadata\": {}}}",
                 r.membership.version, r.status.bytes_total, r.status.bytes_free, r.status.inodes,
                 r.status.chunks, r.status.chunk_bytes, r.status.migrating != 0,
                 r.status.outgoing_chunks, r.status.outgoing_bytes, r.status.leaving != 0,
                 r.status.metadata_handed_over != 0, r.status.importing_metadata != 0);
    } else {
      fmt::print(out, ", \"error\": {}}}", JsonString(r.reached.message()));
    }
  }
  fmt::print(out, "\n]}}\n");
}

void PrintTable(const std::vector<MemberReport>& reports, uint64_t newest, std::ostream& out) {
  fmt::print(out, "membership version {}\n", newest);
  fmt::print(out, "{:>5}  {:<22} {:>7}  {:>10} {:>10} {:>9} {:>9} {:>10}  {}\n", "id", "address",
             "version", "size", "free", "inodes", "chunks", "data", "moving");
  for (const MemberReport& r : reports) {
    std::string addr = fmt::format("{}:{}", r.server.address, r.server.port);
    if (!r.reached.ok()) {
      fmt::print(out, "{:>5}  {:<22} unreachable: {}\n", r.server.id, addr, r.reached.message());
      continue;
    }
    std::string moving = r.status.importing_metadata ? "copying metadata, pulling"
                         : r.status.migrating        ? "pulling"
                         : r.status.leaving          ? "leaving"
                                                     : "-";
    if (r.status.outgoing_chunks)
      moving += fmt::format(", {} chunks ({}) to hand over", r.status.outgoing_chunks,
                            Size(r.status.outgoing_bytes));
    if (r.status.leaving)
      moving +=
          r.status.metadata_handed_over ? ", metadata handed over" : ", metadata to hand over";
    fmt::print(out, "{:>5}  {:<22} {:>7}  {:>10} {:>10} {:>9} {:>9} {:>10}  {}{}\n", r.server.id,
               addr, r.membership.version, Size(r.status.bytes_total), Size(r.status.bytes_free),
               r.status.inodes, r.status.chunks, Size(r.status.chunk_bytes), moving,
               r.membership.version == newest ? "" : "  (behind)");
  }
}

}  // namespace

int RunStatus(const StatusOptions& options, std::ostream& out, std::ostream& err) {
  Result<ClusterConfig> file = LoadClusterConfig(options.cluster_file);
  if (!file.ok()) {
    fmt::print(err, "sealfs-loader status: {}\n", file.status().message());
    return 2;
  }
  std::vector<MemberReport> reports = SurveyMembers(file->servers, options.timeout);
  // The servers as the cluster knows them, which may be newer than the file,
  // and while anything moves, the servers being removed.
  if (std::optional<ClusterConfig> newest = NewestMembership(reports, nullptr)) {
    std::vector<ServerInfo> listed = newest->servers;
    if (SumMigration(reports).migrating > 0) {
      for (const ServerInfo& s : newest->moving_from)
        if (newest->Leaving(s.id)) listed.push_back(s);
    }
    if (listed != file->servers) reports = SurveyMembers(listed, options.timeout);
  }
  std::optional<ClusterConfig> newest = NewestMembership(reports, nullptr);
  const uint64_t version = newest ? newest->version : 0;
  if (options.json) {
    PrintJson(reports, version, out);
  } else {
    PrintTable(reports, version, out);
    MigrationTotals now = SumMigration(reports);
    if (now.migrating > 0 || now.outgoing_chunks > 0) {
      // The rate, from a second look a moment later.
      const auto pause = std::chrono::seconds(1);
      std::this_thread::sleep_for(pause);
      std::vector<ServerInfo> surveyed;
      for (const MemberReport& r : reports) surveyed.push_back(r.server);
      MigrationTotals later = SumMigration(SurveyMembers(surveyed, options.timeout));
      const double rate = now.outgoing_bytes > later.outgoing_bytes
                              ? static_cast<double>(now.outgoing_bytes - later.outgoing_bytes)
                              : 0;
      fmt::print(out, "chunks moving for membership version {}:\n{}\n", version,
                 ProgressLine(later, later.pulled_bytes, rate / pause.count()));
    }
  }
  for (const MemberReport& r : reports) {
    if (!r.reached.ok() || r.membership.version != version) return 1;
  }
  return 0;
}

}  // namespace sealfs
