// ClusterClient: a client's view of the cluster. It routes each operation to
// the server that owns it (placement.h) over one multiplexed channel per
// server, and splits reads and writes at chunk borders. A server on a newer
// membership sends it along, and the operation is routed again under it
// (cluster_view.h): a mount follows membership changes without remounting. GETATTR and LOOKUP go
// as UDP datagrams to a server that has a udp_port (udp_fast_path.h), and
// over TCP when no answer comes in time or the name does not fit.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <span>

#include "cluster_config.h"
#include "cluster_view.h"
#include "messages.h"
#include "rpc_channel.h"
#include "status.h"
#include "udp_fast_path.h"

namespace sealfs {

class ClusterClient {
 public:
  // `udp_timeout`: how long a GETATTR or LOOKUP waits for a UDP answer
  // before it asks over TCP; zero: never over UDP.
  ClusterClient(ClusterConfig config, std::chrono::milliseconds timeout,
                std::chrono::microseconds udp_timeout = {});
  ~ClusterClient();

  // Checks that every server answers; the error names the first that does not.
  Status PingAll();

  Ino root() const { return root_; }
  uint64_t membership_version() const { return view_.version(); }

  // Metadata: sent to the home server of the inode or directory named.
  template <class Req, class Resp>
  Status Meta(Op op, Ino owner, Req& req, Resp* resp, bool idempotent) {
    return view_.Routed([&](const ClusterView::Members&) {
      RpcChannel* ch = view_.HomeChannel(HomeOf(owner));
      if (!ch) return Status::Error(EIO, "inode belongs to an unknown server");
      return ch->Call(op, req, resp, idempotent);
    });
  }

  // GETATTR and LOOKUP, over UDP when the home server has a udp_port and
  // answers in time, else over TCP: the same answers either way.
  Status Getattr(Ino ino, Attr* attr);
  Status Lookup(LookupReq& req, Entry* entry);

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
  Status ReadSpan(RpcChannel* ch, Ino ino, const ChunkSpan& span, uint8_t* dst);
  Status WriteSpan(RpcChannel* ch, Ino ino, const ChunkSpan& span, std::string_view bytes,
                   int64_t* blocks_delta, uint64_t* reached);
  // Calls fn(channel) for every member's channel, in id order, until one
  // fails; ForEachServer starts over when the membership changes.
  Status EachServer(const ClusterView::Members& m, const std::function<Status(RpcChannel*)>& fn);
  Status ForEachServer(const std::function<Status(RpcChannel*)>& fn);
  // The UDP answer to `key` from its home server, if one came: true and
  // *status (0 or the server's errno) and *payload set. False: ask over TCP.
  bool AskUdp(const sealfs_xdp_key& key, Status* status, sealfs_xdp_payload* payload);

  ClusterView view_;
  const Ino root_;  // the root's home never changes
  // Servers with a udp_port, from the first membership. A removed server's
  // inodes are served by another, over TCP: `member` turns false once a
  // membership drops it (set on adoption, read without a lock).
  struct UdpServer {
    std::unique_ptr<UdpFastPath> path;
    std::atomic<bool> member{true};
  };
  std::map<ServerId, UdpServer> udp_;
};

}  // namespace sealfs
