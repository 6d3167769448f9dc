// RpcChannel: the calling side of the protocol towards one server.
//
// Many threads may Call() at once; their requests are multiplexed over one
// long-lived TCP connection and matched to replies by request id. The caller
// writes its frame itself (one gathered, blocking write under a mutex: no
// hand-off to another thread), and a reader thread per connection completes
// the waiting callers. A call without a reply within the timeout fails with
// EIO and the connection is dropped (a server that stops answering is treated
// as down); the next call reconnects. Calls marked idempotent are retried once
// on a fresh connection when the old one broke before the reply came; any
// call is, when the connection was known to be broken before it was sent.
//
// Every request carries the caller's membership version (epoch). A server on
// another version answers ESTALE with its own version in the reply header and
// carries nothing out (docs/protocol.md, "Membership versions"): the channel
// hands that reply to its mismatch handler (ClusterView learns or offers a
// membership there), which says whether the request goes to this server
// again; if not, the call fails with ERESTART, which tells the caller to
// route it again under the current membership.
#pragma once

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "cluster_config.h"
#include "frame.h"
#include "messages.h"
#include "status.h"

namespace sealfs {

struct Reply {
  int32_t status = 0;  // 0 or positive errno from the server
  std::vector<uint8_t> payload;
  // The payload was a bytes reply read straight into the caller's sink:
  // `payload` holds only its u32 length.
  bool in_sink = false;
  uint64_t epoch = 0;  // the server's membership version
};

// ERESTART from a call: the server is on another membership version; route
// the request again under the current membership and resend it.
inline bool IsMembershipMismatch(const Status& s) { return s.err() == ERESTART; }

class RpcChannel {
 public:
  RpcChannel(ServerInfo server, uint64_t epoch, std::chrono::milliseconds timeout);
  // Called with a reply from a server on another membership version, on the
  // calling thread. True: send the request to this server again (at most
  // kMaxResends times in all); false: the call fails with ERESTART.
  using MismatchHandler = std::function<bool(RpcChannel* channel, const Reply& reply)>;
  static constexpr int kMaxResends = 8;
  void set_mismatch_handler(MismatchHandler handler) { on_mismatch_ = std::move(handler); }
  // The membership version stamped on requests from now on.
  void set_epoch(uint64_t epoch) { epoch_ = epoch; }
  ~RpcChannel();
  RpcChannel(const RpcChannel&) = delete;
  RpcChannel& operator=(const RpcChannel&) = delete;

  // Sends `fields` followed by `data` (gathered, not copied) and waits for the
  // reply. A transport failure or timeout gives EIO; a server-side error comes
  // back in Reply::status. A successful reply that is a u32 length followed by
  // at most sink.size() bytes (BytesResp) is received straight into `sink`.
  // `*maybe_sent`, when given, tells whether the request may have reached the
  // server (false only when it certainly never left this process).
  Result<Reply> Call(Op op, const std::vector<uint8_t>& fields, std::string_view data,
                     bool idempotent, std::span<uint8_t> sink = {}, bool* maybe_sent = nullptr);

  // Typed convenience: encodes the request, decodes the response.
  template <class Req, class Resp>
  Status Call(Op op, Req& req, Resp* resp, bool idempotent) {
    Result<Reply> r = Call(op, Encode(req), {}, idempotent);
    if (!r.ok()) return r.status();
    if (r->status != 0) return Status::Error(r->status);
    if (!Decode(r->payload, resp))
      return Status::Error(EIO, "malformed reply from " + name_ + " to " + OpName(op));
    return Status::Ok();
  }

  const std::string& name() const { return name_; }
  const ServerInfo& server() const { return server_; }

 private:
  struct Link;
  Result<std::shared_ptr<Link>> GetLink();
  Result<Reply> CallOnce(Op op, const std::vector<uint8_t>& fields, std::string_view data,
                         std::span<uint8_t> sink, bool* broken, bool* unsent);

  ServerInfo server_;
  std::string name_;
  static constexpr std::chrono::milliseconds kBehindPause{25};
  std::atomic<uint64_t> epoch_;
  MismatchHandler on_mismatch_;
  std::chrono::milliseconds timeout_;
  std::atomic<uint64_t> next_id_{1};
  std::mutex mu_;
  std::shared_ptr<Link> link_;  // guarded by mu_
};

}  // namespace sealfs
