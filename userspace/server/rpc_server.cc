#include "rpc_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <future>

namespace sealfs {

RpcServer::RpcServer(asio::io_context& io, asio::thread_pool& workers,
                     asio::thread_pool& peer_workers, RequestHandler* handler)
    : workers_(workers),
      peer_workers_(peer_workers),
      handler_(handler),
      acceptor_(asio::make_strand(io)) {}

Status RpcServer::Listen(const std::string& address, uint16_t port) {
  asio::error_code ec;
  asio::ip::address addr = asio::ip::make_address(address, ec);
  if (ec)
    return Status::Error(EINVAL, fmt::format("bad listen address '{}': {}", address, ec.message()));
  asio::ip::tcp::endpoint ep(addr, port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Status::Error(EADDRINUSE,
                         fmt::format("cannot listen on {}:{}: {}", address, port, ec.message()));
  Accept();
  return Status::Ok();
}

void RpcServer::Stop() {
  // The acceptor is only touched on its strand: closing it from this thread
  // would race with an accept handler re-arming it.
  std::promise<void> closed;
  asio::post(acceptor_.get_executor(), [&] {
    asio::error_code ec;
    acceptor_.close(ec);
    closed.set_value();
  });
  closed.get_future().wait();
  std::set<std::shared_ptr<Connection>> conns;
  {
    std::lock_guard lock(mu_);
    conns.swap(conns_);
  }
  for (const auto& c : conns) c->Close("server stopping");
}

void RpcServer::Accept() {
  acceptor_.async_accept([this](asio::error_code ec, asio::ip::tcp::socket socket) {
    if (ec) {
      if (ec != asio::error::operation_aborted) spdlog::warn("accept failed: {}", ec.message());
      if (!acceptor_.is_open()) return;
      return Accept();
    }
    asio::error_code e;
    auto remote = socket.remote_endpoint(e);
    std::string name =
        e ? "unknown peer" : fmt::format("{}:{}", remote.address().to_string(), remote.port());
    auto conn = std::make_shared<Connection>(std::move(socket), name);
    {
      std::lock_guard lock(mu_);
      conns_.insert(conn);
    }
    std::weak_ptr<Connection> weak = conn;
    conn->Start([this](const std::shared_ptr<Connection>& c, const FrameHeader& h,
                       std::vector<uint8_t> payload) { OnFrame(c, h, std::move(payload)); },
                [this, weak](const std::string& reason) {
                  spdlog::debug("connection closed: {}", reason);
                  std::shared_ptr<Connection> c = weak.lock();
                  if (c && cache_) cache_->OnClose(c);
                  std::lock_guard lock(mu_);
                  if (c) conns_.erase(c);
                });
    Accept();
  });
}

void RpcServer::OnFrame(const std::shared_ptr<Connection>& conn, const FrameHeader& h,
                        std::vector<uint8_t> payload) {
  if ((h.flags & kFlagResponse) && cache_ && static_cast<Op>(h.opcode) == Op::kCacheInvalidate)
    return cache_->OnResponse(conn, h);
  if (h.flags & kFlagResponse) {
    spdlog::warn("closing connection from {}: unexpected response frame", conn->peer_name());
    return conn->Close("unexpected response frame");
  }
  const Op op = static_cast<Op>(h.opcode);
  if (op == Op::kCacheRegister) {
    // It may write the store once (CacheRegistry's first session): not on
    // the I/O thread.
    return asio::post(workers_, [this, conn, h, payload = std::move(payload)] {
      RegisterCacheSession(conn, h, payload);
    });
  }
  auto serve = [this, conn, h, payload = std::move(payload)] {
    FrameHeader reply_header;
    reply_header.opcode = h.opcode;
    reply_header.flags = kFlagResponse;
    reply_header.request_id = h.request_id;
    std::vector<uint8_t> reply;
    // Invalidations of cached answers that the request's changes sent are
    // waited for here, with the handler's locks released, before the reply.
    CacheRegistry::DeferredAcks acks(cache_);
    handler_->Handle(h, payload, &reply_header.status, &reply, &reply_header.epoch);
    acks.Wait();
    conn->Send(reply_header, std::move(reply));
  };
  // Reads of metadata take microseconds and never block: answer them on the
  // I/O thread - unless records are being copied here, which they may wait
  // for. Anything that writes, syncs or touches chunk files goes to the
  // worker pool so that it cannot stall other connections.
  if (RequestHandler::IsQuickRead(op) && !handler_->ReadsMayWait())
    serve();
  else if (RequestHandler::IsPeerStep(op))
    asio::post(peer_workers_, std::move(serve));
  else
    asio::post(workers_, std::move(serve));
}

void RpcServer::RegisterCacheSession(const std::shared_ptr<Connection>& conn, const FrameHeader& h,
                                     std::span<const uint8_t> payload) {
  FrameHeader reply_header{.opcode = h.opcode,
                           .flags = kFlagResponse,
                           .request_id = h.request_id,
                           .epoch = h.epoch,
                           .status = 0,
                           .payload_len = 0};
  std::vector<uint8_t> reply;
  CacheRegisterReq req;
  if (!cache_) {
    reply_header.status = ENOSYS;
  } else if (!Decode(payload, &req)) {
    reply_header.status = EINVAL;
  } else if (Result<uint32_t> lease = cache_->Register(conn, req); !lease.ok()) {
    spdlog::warn("cannot open a cache session: {}", lease.status().ToString());
    reply_header.status = lease.err();
  } else {
    CacheRegisterResp resp{.lease_ms = *lease};
    Encode(resp, &reply);
  }
  conn->Send(reply_header, std::move(reply));
}

}  // namespace sealfs
