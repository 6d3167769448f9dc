// DataFanout: operations on file data that involve every server, issued by an
// inode's home server: truncating or deleting all chunks of an inode.
// The local server's chunks are handled in-process; the others by
// PEER_TRUNC_CHUNKS over the protocol.
#pragma once

#include <map>
#include <memory>

#include "chunk_store.h"
#include "cluster_config.h"
#include "rpc_channel.h"

namespace sealfs {

class DataFanout {
 public:
  DataFanout(const ClusterConfig& config, ServerId self, ChunkStore* chunks,
             std::chrono::milliseconds timeout);

  // Drops every byte of `ino` at or beyond `size` on every server; returns the
  // number of 512-byte blocks freed. Fails if any server could not be reached
  // (the caller keeps its intent and retries).
  Result<int64_t> TruncateEverywhere(Ino ino, uint64_t size);

  // The channel to another member (for cross-server metadata steps).
  RpcChannel* Peer(ServerId id);

 private:
  ServerId self_;
  ChunkStore* chunks_;
  std::map<ServerId, std::unique_ptr<RpcChannel>> peers_;
};

}  // namespace sealfs
