#include "rpc_channel.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace sealfs {

RpcChannel::RpcChannel(asio::io_context& io, ServerInfo server, uint64_t epoch,
                       std::chrono::milliseconds timeout)
    : io_(io),
      server_(std::move(server)),
      name_(fmt::format("server {} ({}:{})", server_.id, server_.address, server_.port)),
      epoch_(epoch),
      timeout_(timeout) {}

RpcChannel::~RpcChannel() {
  std::shared_ptr<Connection> conn;
  {
    std::lock_guard lock(mu_);
    conn = conn_;
  }
  if (conn) conn->Close("shutting down");
}

Status RpcChannel::Connect() { return GetConnection().status(); }

Result<std::shared_ptr<Connection>> RpcChannel::GetConnection() {
  std::lock_guard lock(mu_);
  if (conn_ && !conn_->closed()) return conn_;

  asio::error_code ec;
  asio::ip::address addr = asio::ip::make_address(server_.address, ec);
  if (ec) return Status::Error(EINVAL, fmt::format("{}: bad address: {}", name_, ec.message()));
  asio::ip::tcp::endpoint ep(addr, server_.port);

  // Connect asynchronously so the attempt is bounded by the timeout.
  auto socket = std::make_shared<asio::ip::tcp::socket>(io_);
  auto done = std::make_shared<std::promise<asio::error_code>>();
  auto result = done->get_future();
  socket->async_connect(ep, [done](asio::error_code e) { done->set_value(e); });
  if (result.wait_for(timeout_) != std::future_status::ready) {
    asio::post(io_, [socket] {
      asio::error_code ignored;
      socket->close(ignored);
    });
    result.wait();
    return Status::Error(EIO, fmt::format("{}: connect timed out after {} ms", name_, timeout_.count()));
  }
  if (asio::error_code e = result.get())
    return Status::Error(EIO, fmt::format("{}: cannot connect: {}", name_, e.message()));

  auto conn = std::make_shared<Connection>(std::move(*socket), name_);
  conn_ = conn;
  std::weak_ptr<Connection> weak = conn;
  conn->Start([this](const std::shared_ptr<Connection>&, const FrameHeader& h,
                     std::vector<uint8_t> payload) { OnFrame(h, std::move(payload)); },
              [this, weak](const std::string& reason) {
                spdlog::debug("{}: connection closed: {}", name_, reason);
                if (auto c = weak.lock()) OnClose(c);
              });
  return conn;
}

void RpcChannel::OnFrame(const FrameHeader& h, std::vector<uint8_t> payload) {
  std::shared_ptr<Pending> p;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(h.request_id);
    if (it == pending_.end()) return;  // the caller timed out already
    p = std::move(it->second);
    pending_.erase(it);
  }
  p->promise.set_value(Reply{h.status, std::move(payload)});
}

void RpcChannel::OnClose(const std::shared_ptr<Connection>& conn) {
  std::unordered_map<uint64_t, std::shared_ptr<Pending>> failed;
  {
    std::lock_guard lock(mu_);
    if (conn_ == conn) {
      failed.swap(pending_);
      conn_.reset();
    }
  }
  for (auto& [id, p] : failed) p->promise.set_exception(std::make_exception_ptr(std::runtime_error("closed")));
}

Result<Reply> RpcChannel::CallOnce(Op op, const std::vector<uint8_t>& fields, std::string_view data,
                                   bool* broken) {
  *broken = false;
  Result<std::shared_ptr<Connection>> conn = GetConnection();
  if (!conn.ok()) return conn.status();

  auto pending = std::make_shared<Pending>();
  auto reply = pending->promise.get_future();
  FrameHeader h;
  h.opcode = static_cast<uint16_t>(op);
  h.epoch = epoch_;
  {
    std::lock_guard lock(mu_);
    h.request_id = next_id_++;
    pending_[h.request_id] = pending;
  }
  auto written = data.empty() ? nullptr : std::make_shared<std::promise<void>>();
  (*conn)->Send(h, fields, data, written);

  std::future_status st = reply.wait_for(timeout_);
  if (st != std::future_status::ready) {
    {
      std::lock_guard lock(mu_);
      pending_.erase(h.request_id);
    }
    (*conn)->Close("request timed out");
    if (written) written->get_future().wait();  // `data` must outlive the write
    return Status::Error(EIO, fmt::format("{}: no reply to {} within {} ms", name_, OpName(op),
                                          timeout_.count()));
  }
  if (written) written->get_future().wait();
  try {
    return reply.get();
  } catch (const std::exception&) {
    *broken = true;
    return Status::Error(EIO, fmt::format("{}: connection lost during {}", name_, OpName(op)));
  }
}

Result<Reply> RpcChannel::Call(Op op, std::vector<uint8_t> fields, std::string_view data,
                               bool idempotent) {
  bool broken = false;
  Result<Reply> r = CallOnce(op, fields, data, &broken);
  if (!r.ok() && broken && idempotent) r = CallOnce(op, fields, data, &broken);
  if (!r.ok()) spdlog::warn("{}", r.status().message());
  return r;
}

}  // namespace sealfs
