#include "data_fanout.h"

namespace sealfs {

DataFanout::DataFanout(const ClusterConfig& config, ServerId self, ChunkStore* chunks,
                       std::chrono::milliseconds timeout)
    : self_(self), chunks_(chunks) {
  for (const ServerInfo& s : config.servers) {
    if (s.id != self) peers_[s.id] = std::make_unique<RpcChannel>(s, config.version, timeout);
  }
}

RpcChannel* DataFanout::Peer(ServerId id) {
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : it->second.get();
}

Result<int64_t> DataFanout::TruncateEverywhere(Ino ino, uint64_t size) {
  Result<int64_t> local = chunks_->Truncate(ino, size);
  if (!local.ok()) return local.status();
  int64_t freed = *local;
  for (auto& [id, channel] : peers_) {
    PeerTruncChunksReq req{ino, size};
    WriteResp resp;
    if (Status s = channel->Call(Op::kPeerTruncChunks, req, &resp, true); !s.ok()) return s;
    freed += resp.blocks_delta;
  }
  return freed;
}

}  // namespace sealfs
