#include "fsck_online.h"

#include <fmt/format.h>

#include <cstring>
#include <set>
#include <sstream>
#include <thread>

namespace sealfs {

RpcSource::RpcSource(const ClusterConfig& config, std::chrono::milliseconds timeout)
    : view_(config, MakeMembership(config, nullptr), {.timeout = timeout}) {}

template <class Req, class Resp>
Status RpcSource::Call(ServerId server, Op op, const Req& req, Resp* resp) {
  Req copy = req;
  std::vector<uint8_t> fields;
  fields.reserve(64);
  Encode(copy, &fields);
  RpcChannel* channel = nullptr;
  Result<Reply> r = Status::Ok();
  Status routed = view_.Routed([&](const ClusterView::Members&) {
    channel = view_.Channel(server);
    if (!channel) return Status::Error(EINVAL, fmt::format("server {} is not a member", server));
    r = channel->Call(op, fields, {}, /*idempotent=*/true);
    return r.status();
  });
  if (!routed.ok()) return routed;  // transport errors name the server already
  std::string why;
  if (r->status != 0) {
    why = std::strerror(r->status);
    if (r->status == ENOSYS) why += " (the server is older than online fsck)";
  } else if (!Decode(r->payload, resp)) {
    why = "malformed reply";
  } else {
    return Status::Ok();
  }
  return Status::Error(r->status != 0 ? r->status : EIO,
                       fmt::format("{}: {} failed: {}", channel->name(), OpName(op), why));
}

std::vector<std::pair<ServerId, Status>> RpcSource::Ping() {
  std::vector<std::pair<ServerId, Status>> down;
  // A snapshot held for the loop: the membership may change meanwhile.
  const std::shared_ptr<const ClusterView::Members> members = view_.Current();
  for (const ServerInfo& server : members->config.servers) {
    Empty req, resp;
    if (Status s = Call(server.id, Op::kPing, req, &resp); !s.ok()) down.emplace_back(server.id, s);
  }
  return down;
}

Status RpcSource::ScanMeta(ServerId server, const FsckScanMetaReq& req, FsckScanMetaResp* resp) {
  return Call(server, Op::kFsckScanMeta, req, resp);
}

Status RpcSource::ListChunks(ServerId server, const FsckListChunksReq& req,
                             FsckListChunksResp* resp) {
  return Call(server, Op::kFsckListChunks, req, resp);
}

std::vector<FsckFinding> PersistentFindings(const std::vector<FsckFinding>& first,
                                            const std::vector<FsckFinding>& second) {
  std::set<std::pair<std::string, std::string>> seen;
  for (const FsckFinding& f : first) seen.emplace(f.text, f.evidence);
  std::vector<FsckFinding> out;
  for (const FsckFinding& f : second)
    if (seen.count({f.text, f.evidence})) out.push_back(f);
  return out;
}

Result<Fsck::Report> CheckRunningCluster(const ClusterConfig& config, FsckSource* source,
                                         std::chrono::milliseconds settle, std::ostream* out) {
  Fsck::Options live{.live = true};
  Result<ClusterScan> scan = LoadCluster(config, source);
  if (!scan.ok()) return scan.status();
  std::ostringstream ignored;  // the second scan's notes are the ones shown
  Fsck::Report first = Fsck(config, std::move(*scan), nullptr, live, &ignored).Run();

  std::this_thread::sleep_for(settle);
  scan = LoadCluster(config, source);
  if (!scan.ok()) return scan.status();
  Fsck::Report report = Fsck(config, std::move(*scan), nullptr, live, out).Run();
  report.findings = PersistentFindings(first.findings, report.findings);
  report.problems = static_cast<int>(report.findings.size());
  for (const FsckFinding& f : report.findings) *out << f.text << "\n";
  return report;
}

}  // namespace sealfs
