// DataFanout: operations on file data that involve every server, issued by an
// inode's home server: truncating or deleting all chunks of an inode.
// The local server's chunks are handled in-process; the others by
// PEER_TRUNC_CHUNKS over the protocol.
#pragma once

#include "chunk_migrator.h"
#include "cluster_view.h"
#include "rpc_channel.h"

namespace sealfs {

class DataFanout {
 public:
  // `view` lists the members; it must outlive the fanout.
  // The local chunks are truncated through `chunks` (which remembers
  // truncates while chunks move here).
  DataFanout(ClusterView* view, ServerId self, ChunkMigrator* chunks);

  // Drops every byte of `ino` at or beyond `size` on every server; returns the
  // number of 512-byte blocks freed. Fails if any server could not be reached
  // (the caller keeps its intent and retries).
  Result<int64_t> TruncateEverywhere(Ino ino, uint64_t size);

  // The channel to the server holding the metadata numbered with `home`
  // (for cross-server metadata steps); null if that is this server.
  RpcChannel* Peer(ServerId home);
  // True if this server holds the metadata numbered with `home`.
  bool Here(ServerId home) const { return view_->Hosts(home); }

 private:
  ClusterView* view_;
  ServerId self_;
  ChunkMigrator* chunks_;
};

}  // namespace sealfs
