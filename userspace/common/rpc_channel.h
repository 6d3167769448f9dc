// RpcChannel: the calling side of the protocol towards one server.
//
// Many threads may Call() at once; their requests are multiplexed over one
// long-lived connection and matched to responses by request id. A call that
// gets no answer within the timeout fails with EIO and the connection is
// dropped (a server that stops answering is treated as down). The next call
// reconnects. Calls marked idempotent are retried once on a fresh connection
// when the old one broke before the answer came.
#pragma once

#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "cluster_config.h"
#include "connection.h"
#include "messages.h"
#include "status.h"

namespace sealfs {

struct Reply {
  int32_t status = 0;  // 0 or positive errno from the server
  std::vector<uint8_t> payload;
};

class RpcChannel {
 public:
  RpcChannel(asio::io_context& io, ServerInfo server, uint64_t epoch, std::chrono::milliseconds timeout);
  ~RpcChannel();
  RpcChannel(const RpcChannel&) = delete;
  RpcChannel& operator=(const RpcChannel&) = delete;

  // Sends `fields` (+ `data`, gathered) and waits for the reply. A transport
  // failure or timeout gives EIO; a server-side error comes back in
  // Reply::status.
  Result<Reply> Call(Op op, std::vector<uint8_t> fields, std::string_view data, bool idempotent);

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

  // Connects now if not connected; fails with the server's name in the message.
  Status Connect();
  const std::string& name() const { return name_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

 private:
  struct Pending {
    std::promise<Reply> promise;
  };
  Result<std::shared_ptr<Connection>> GetConnection();
  Result<Reply> CallOnce(Op op, const std::vector<uint8_t>& fields, std::string_view data, bool* broken);
  void OnFrame(const FrameHeader& h, std::vector<uint8_t> payload);
  void OnClose(const std::shared_ptr<Connection>& conn);

  asio::io_context& io_;
  ServerInfo server_;
  std::string name_;
  uint64_t epoch_;
  std::chrono::milliseconds timeout_;

  std::mutex mu_;
  std::shared_ptr<Connection> conn_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::shared_ptr<Pending>> pending_;
};

}  // namespace sealfs
