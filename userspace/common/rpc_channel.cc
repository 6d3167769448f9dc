#include "rpc_channel.h"

#include <fmt/format.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <thread>

namespace sealfs {

// One TCP connection, its reader thread and the calls waiting on it. The
// reader thread holds a reference, so a Link lives until its reader is done.
struct RpcChannel::Link {
  asio::io_context io;
  asio::ip::tcp::socket socket{io};
  std::mutex write_mu;
  std::mutex mu;
  bool broken = false;                                        // guarded by mu
  std::unordered_map<uint64_t, std::promise<Reply>> pending;  // guarded by mu

  // Fails every waiting call and shuts the socket, which ends the reader.
  void Break() {
    std::unordered_map<uint64_t, std::promise<Reply>> failed;
    {
      std::lock_guard lock(mu);
      if (!broken) {
        broken = true;
        asio::error_code ec;
        socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      }
      failed.swap(pending);
    }
    for (auto& [id, p] : failed)
      p.set_exception(std::make_exception_ptr(std::runtime_error("lost")));
  }

  static void ReadLoop(std::shared_ptr<Link> self, std::string name) {
    for (;;) {
      HeaderBytes raw;
      FrameHeader h;
      asio::error_code ec;
      asio::read(self->socket, asio::buffer(raw), ec);
      if (ec) break;
      if (HeaderError err = DecodeHeader(raw, &h);
          err != HeaderError::kNone || !(h.flags & kFlagResponse)) {
        spdlog::warn("{}: dropping connection: malformed reply frame ({})", name,
                     err == HeaderError::kNone ? "not a response" : ToString(err));
        break;
      }
      std::vector<uint8_t> payload(h.payload_len);
      asio::read(self->socket, asio::buffer(payload), ec);
      if (ec) break;
      std::promise<Reply> p;
      {
        std::lock_guard lock(self->mu);
        auto it = self->pending.find(h.request_id);
        if (it == self->pending.end()) continue;  // its caller timed out already
        p = std::move(it->second);
        self->pending.erase(it);
      }
      p.set_value(Reply{h.status, std::move(payload)});
    }
    self->Break();
  }
};

RpcChannel::RpcChannel(ServerInfo server, uint64_t epoch, std::chrono::milliseconds timeout)
    : server_(std::move(server)),
      name_(fmt::format("server {} ({}:{})", server_.id, server_.address, server_.port)),
      epoch_(epoch),
      timeout_(timeout) {}

RpcChannel::~RpcChannel() {
  std::lock_guard lock(mu_);
  if (link_) link_->Break();
}

Result<std::shared_ptr<RpcChannel::Link>> RpcChannel::GetLink() {
  std::lock_guard lock(mu_);
  if (link_) {
    std::lock_guard l(link_->mu);
    if (!link_->broken) return link_;
  }
  asio::error_code ec;
  asio::ip::address addr = asio::ip::make_address(server_.address, ec);
  if (ec) return Status::Error(EINVAL, fmt::format("{}: bad address: {}", name_, ec.message()));

  auto link = std::make_shared<Link>();
  asio::ip::tcp::endpoint ep(addr, server_.port);
  link->socket.open(ep.protocol(), ec);
  // Connect without blocking so the attempt is bounded by the timeout.
  if (!ec) link->socket.non_blocking(true, ec);
  if (!ec) {
    link->socket.connect(ep, ec);
    if (ec == asio::error::in_progress || ec == asio::error::would_block) {
      pollfd pfd{link->socket.native_handle(), POLLOUT, 0};
      int n = ::poll(&pfd, 1, static_cast<int>(timeout_.count()));
      if (n == 0)
        return Status::Error(
            EIO, fmt::format("{}: connect timed out after {} ms", name_, timeout_.count()));
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(link->socket.native_handle(), SOL_SOCKET, SO_ERROR, &err, &len);
      ec = asio::error_code(err, asio::system_category());
    }
  }
  if (ec) return Status::Error(EIO, fmt::format("{}: cannot connect: {}", name_, ec.message()));
  link->socket.non_blocking(false, ec);
  link->socket.set_option(asio::ip::tcp::no_delay(true), ec);
  // A server that stops reading must not block a writer beyond the timeout.
  timeval tv{.tv_sec = timeout_.count() / 1000, .tv_usec = (timeout_.count() % 1000) * 1000};
  ::setsockopt(link->socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

  std::thread(Link::ReadLoop, link, name_).detach();
  link_ = link;
  return link;
}

Result<Reply> RpcChannel::CallOnce(Op op, const std::vector<uint8_t>& fields, std::string_view data,
                                   bool* broken, bool* unsent) {
  *broken = false;
  *unsent = false;
  Result<std::shared_ptr<Link>> got = GetLink();
  if (!got.ok()) return got.status();
  std::shared_ptr<Link> link = *got;

  FrameHeader h;
  h.opcode = static_cast<uint16_t>(op);
  h.epoch = epoch_;
  h.request_id = next_id_++;
  h.payload_len = static_cast<uint32_t>(fields.size() + data.size());
  std::future<Reply> reply;
  {
    std::lock_guard lock(link->mu);
    if (link->broken) {
      *broken = *unsent = true;
      return Status::Error(EIO, fmt::format("{}: connection lost before {}", name_, OpName(op)));
    }
    reply = link->pending[h.request_id].get_future();
  }
  HeaderBytes header = EncodeHeader(h);
  std::array<asio::const_buffer, 3> bufs = {asio::buffer(header), asio::buffer(fields),
                                            asio::buffer(data.data(), data.size())};
  asio::error_code ec;
  {
    std::lock_guard lock(link->write_mu);
    asio::write(link->socket, bufs, ec);
  }
  if (ec) {
    link->Break();
    *broken = true;
    return Status::Error(EIO,
                         fmt::format("{}: cannot send {}: {}", name_, OpName(op), ec.message()));
  }
  if (reply.wait_for(timeout_) != std::future_status::ready) {
    spdlog::warn("{}: no reply to {} within {} ms; dropping the connection", name_, OpName(op),
                 timeout_.count());
    link->Break();
    return Status::Error(
        EIO, fmt::format("{}: no reply to {} within {} ms", name_, OpName(op), timeout_.count()));
  }
  try {
    return reply.get();
  } catch (const std::exception&) {
    *broken = true;
    return Status::Error(EIO, fmt::format("{}: connection lost during {}", name_, OpName(op)));
  }
}

Result<Reply> RpcChannel::Call(Op op, const std::vector<uint8_t>& fields, std::string_view data,
                               bool idempotent) {
  bool broken = false, unsent = false;
  Result<Reply> r = CallOnce(op, fields, data, &broken, &unsent);
  // A request that never left (the connection was already known to be
  // lost) can always go again; one that may have been served only if it is
  // idempotent.
  if (!r.ok() && broken && (idempotent || unsent)) r = CallOnce(op, fields, data, &broken, &unsent);
  if (!r.ok()) spdlog::debug("{}", r.status().message());
  return r;
}

}  // namespace sealfs
