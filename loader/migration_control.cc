#include "migration_control.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "admin_call.h"
#include "admin_request.h"
#include "cluster_config.h"
#include "cluster_secret.h"
#include "member_survey.h"

namespace sealfs {

int RunMigrationControl(const MigrationControlOptions& options, std::ostream& out,
                        std::ostream& err) {
  auto fail = [&err](int status, const std::string& why) {
    fmt::print(err, "sealfs-loader migration: {}\n", why);
    return status;
  };
  Result<ClusterConfig> file = LoadClusterConfig(options.cluster_file);
  if (!file.ok()) return fail(2, file.status().message());
  Result<ClusterSecret> secret = LoadClusterSecret(*file, options.cluster_file);
  if (!secret.ok()) return fail(2, secret.status().message());

  // The file's servers (one being added among them) and the cluster's.
  std::vector<MemberReport> reports = SurveyMembers(file->servers, options.timeout);
  if (std::optional<ClusterConfig> newest = NewestMembership(reports, nullptr)) {
    std::vector<ServerInfo> more;
    for (const ServerInfo& s : newest->servers)
      if (!file->Find(s.id)) more.push_back(s);
    for (MemberReport& r : SurveyMembers(more, options.timeout)) reports.push_back(std::move(r));
  }
  int failed = 0;
  for (const MemberReport& r : reports) {
    if (!r.reached.ok()) {
      ++failed;
      fmt::print(err, "  {}\n", r.reached.message());
      continue;
    }
    AdminMigrationBody body{.paused = options.paused.value_or(r.status.migration_paused != 0),
                            .rate = options.rate_mib
                                        ? static_cast<uint64_t>(*options.rate_mib * 1048576)
                                        : r.status.migration_rate,
                            .issued_ms = AdminNowMs()};
    AdminMigrationReq req = SignAdmin(body, *secret);
    Result<std::string> done =
        AdminCall(r.server, Op::kAdminMigration, Encode(req), options.timeout);
    if (!done.ok()) {
      ++failed;
      fmt::print(err, "  {}\n", done.status().message());
    } else {
      fmt::print(out, "  {}{}\n", *done,
                 body.rate ? fmt::format(", at most {:.1f} MiB/s", body.rate / 1048576.0) : "");
    }
  }
  if (failed)
    return fail(1, fmt::format("{} of {} servers did not take it", failed, reports.size()));
  return 0;
}

}  // namespace sealfs
