#include "member_survey.h"

#include <fmt/format.h>

#include <algorithm>
#include <future>

#include "membership.h"
#include "rpc_channel.h"

namespace sealfs {
namespace {

MemberReport Survey(const ServerInfo& server, std::chrono::milliseconds timeout) {
  MemberReport report{.server = server};
  // MEMBERSHIP_GET is answered whatever version the request carries.
  RpcChannel channel(server, 0, timeout);
  Empty req;
  report.reached = channel.Call(Op::kMembershipGet, req, &report.status, true);
  if (!report.reached.ok()) {
    if (report.reached.message().empty())
      report.reached =
          Status::Error(report.reached.err(), channel.name() + ": " + report.reached.ToString());
    return report;
  }
  if (report.status.server_id != server.id) {
    report.reached =
        Status::Error(EINVAL, fmt::format("{}:{} answers as server {}, not {}", server.address,
                                          server.port, report.status.server_id, server.id));
    return report;
  }
  Result<ClusterConfig> m = ReadMembership(report.status.membership, nullptr);
  if (!m.ok()) {
    report.reached = Status::Error(EIO, channel.name() + ": " + m.status().message());
    return report;
  }
  report.membership = std::move(*m);
  return report;
}

}  // namespace

std::vector<MemberReport> SurveyMembers(const std::vector<ServerInfo>& servers,
                                        std::chrono::milliseconds timeout) {
  std::vector<std::future<MemberReport>> pending;
  for (const ServerInfo& s : servers)
    pending.push_back(std::async(std::launch::async, Survey, s, timeout));
  std::vector<MemberReport> reports;
  for (auto& p : pending) reports.push_back(p.get());
  return reports;
}

std::optional<ClusterConfig> NewestMembership(const std::vector<MemberReport>& reports,
                                              SignedMembership* record) {
  auto holders = [&reports](const MemberReport& of) {
    return std::count_if(reports.begin(), reports.end(), [&of](const MemberReport& r) {
      return r.reached.ok() && r.status.membership.record == of.status.membership.record;
    });
  };
  const MemberReport* newest = nullptr;
  for (const MemberReport& r : reports) {
    if (!r.reached.ok()) continue;
    if (!newest || r.membership.version > newest->membership.version ||
        (r.membership.version == newest->membership.version && holders(r) > holders(*newest)))
      newest = &r;
  }
  if (!newest) return std::nullopt;
  if (record) *record = newest->status.membership;
  return newest->membership;
}

Result<uint64_t> OfferMembership(const ServerInfo& server, const SignedMembership& record,
                                 std::chrono::milliseconds timeout) {
  RpcChannel channel(server, 0, timeout);
  SignedMembership offer = record;
  MembershipVersion resp;
  Status s = channel.Call(Op::kMembershipOffer, offer, &resp, true);
  if (!s.ok())
    return Status::Error(
        s.err(), channel.name() + ": " + (s.message().empty() ? s.ToString() : s.message()));
  return resp.version;
}

}  // namespace sealfs
