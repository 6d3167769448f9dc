// ClusterClient: a client's view of the cluster. It routes each operation to
// the server that owns it (placement.h) over one multiplexed channel per
// server, and splits reads and writes at chunk borders.
#pragma once

#include <map>
#include <memory>
#include <span>

#include "cluster_config.h"
#include "messages.h"
#include "placement.h"
#include "rpc_channel.h"
#include "status.h"

namespace sealfs {

class ClusterClient {
 public:
  ClusterClient(ClusterConfig config, std::chrono::milliseconds timeout);
  ~ClusterClient();

  // Checks that every server answers; the error names the first that does not.
  Status PingAll();

  Ino root() const { return config_.RootIno(); }
  const ClusterConfig& config() const { return config_; }

  // Metadata: sent to the home server of the inode or directory named.
  template <class Req, class Resp>
  Status Meta(Op op, Ino owner, Req& req, Resp* resp, bool idempotent) {
    RpcChannel* ch = Channel(HomeOf(owner));
    if (!ch) return Status::Error(EIO, "inode belongs to an unknown server");
    return ch->Call(op, req, resp, idempotent);
  }

  // Reads [offset, offset + out.size()) of a file; holes read as zeros.
  Status Read(Ino ino, uint64_t offset, std::span<uint8_t> out);

  // Writes data at offset; adds the 512-byte blocks it allocated to *blocks_delta.
  // Raises *reached to the end of the bytes that may now be stored, which on
  // failure can be more than nothing: a request lost after it was sent may
  // have been carried out.
  Status Write(Ino ino, uint64_t offset, std::string_view data, int64_t* blocks_delta,
               uint64_t* reached);
  // Makes every server fdatasync the chunks it holds of `ino`.
  Status SyncChunks(Ino ino);
  Result<StatfsResp> Statfs();

 private:
  RpcChannel* Channel(ServerId id);

  ClusterConfig config_;
  Placement placement_;
  std::map<ServerId, std::unique_ptr<RpcChannel>> channels_;
};

}  // namespace sealfs
