#include "data_fanout.h"

#include <fmt/format.h>

namespace sealfs {

DataFanout::DataFanout(ClusterView* view, ServerId self, ChunkMigrator* chunks)
    : view_(view), self_(self), chunks_(chunks) {}

RpcChannel* DataFanout::Peer(ServerId home) { return view_->HomeChannel(home); }

Result<int64_t> DataFanout::TruncateEverywhere(Ino ino, uint64_t size) {
  Result<int64_t> local = chunks_->Truncate(ino, size);
  if (!local.ok()) return local.status();
  int64_t freed = *local;
  // A snapshot held for the loop: the membership may change meanwhile.
  const std::shared_ptr<const ClusterView::Members> members = view_->Current();
  for (const ServerInfo& member : members->config.servers) {
    if (member.id == self_) continue;
    RpcChannel* channel = view_->Channel(member.id);
    if (!channel) return Status::Error(EIO, fmt::format("no channel to server {}", member.id));
    PeerTruncChunksReq req{ino, size};
    WriteResp resp;
    if (Status s = channel->Call(Op::kPeerTruncChunks, req, &resp, true); !s.ok()) return s;
    freed += resp.blocks_delta;
  }
  return freed;
}

}  // namespace sealfs
