// Fsck of a running cluster, through the servers' read-only FSCK_SCAN_META and
// FSCK_LIST_CHUNKS requests (docs/protocol.md).
//
// A running cluster changes while it is scanned: an entry may be read before
// the inode it names was created, chunks may be written before the client
// commits the file's new size. So the cluster is scanned twice, `settle`
// apart, and only findings that both scans made, from the same records, are
// reported. Online fsck only reports; repairs need a stopped cluster.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <ostream>
#include <utility>
#include <vector>

#include "cluster_view.h"
#include "fsck.h"

namespace sealfs {

class RpcSource : public FsckSource {
 public:
  RpcSource(const ClusterConfig& config, std::chrono::milliseconds timeout);
  // PINGs every member; returns the error of each one that does not answer.
  std::vector<std::pair<ServerId, Status>> Ping();
  // The membership the cluster answered under (after Ping: its current one).
  ClusterConfig membership() const { return view_.Current()->config; }
  Status ScanMeta(ServerId server, const FsckScanMetaReq& req, FsckScanMetaResp* resp) override;
  Status ListChunks(ServerId server, const FsckListChunksReq& req,
                    FsckListChunksResp* resp) override;

 private:
  template <class Req, class Resp>
  Status Call(ServerId server, Op op, const Req& req, Resp* resp);

  // Follows the cluster to its current membership version.
  ClusterView view_;
};

// The findings of `second` that `first` made too, from the same evidence.
std::vector<FsckFinding> PersistentFindings(const std::vector<FsckFinding>& first,
                                            const std::vector<FsckFinding>& second);

// Scans the cluster twice, `settle` apart, and reports (to `out`) the findings
// that persisted, and the notes of the second scan. Errors name the server.
Result<Fsck::Report> CheckRunningCluster(const ClusterConfig& config, FsckSource* source,
                                         std::chrono::milliseconds settle, std::ostream* out);

}  // namespace sealfs
