#include "rpc_channel.h"

#include <fmt/format.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cstring>
#include <optional>
#include <thread>

namespace sealfs {

// One TCP connection, its reader thread and the calls waiting on it. The
// reader thread holds a reference, so a Link lives until its reader is done.
struct RpcChannel::Link {
  asio::io_context io;
  asio::ip::tcp::socket socket{io};
  struct Waiter {
    std::promise<Reply> reply;
    std::span<uint8_t> sink;
  };
  std::mutex write_mu;
  std::mutex mu;
  bool broken = false;                           // guarded by mu
  std::unordered_map<uint64_t, Waiter> pending;  // guarded by mu

  // Fails every waiting call and shuts the socket, which ends the reader.
  void Break() {
    std::unordered_map<uint64_t, Waiter> failed;
    {
      std::lock_guard lock(mu);
      if (!broken) {
        broken = true;
        asio::error_code ec;
        socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      }
      failed.swap(pending);
    }
    for (auto& [id, w] : failed)
      w.reply.set_exception(std::make_exception_ptr(std::runtime_error("lost")));
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
      // Taken out of `pending` before its payload is read: from here on only
      // this thread writes into the caller's sink.
      std::optional<Waiter> waiter;
      {
        std::lock_guard lock(self->mu);
        if (auto it = self->pending.find(h.request_id); it != self->pending.end()) {
          waiter = std::move(it->second);
          self->pending.erase(it);
        }
      }
      // Without a waiter (its caller timed out already) the payload is read and dropped.
      Reply reply{.status = h.status, .epoch = h.epoch};
      if (!self->ReadPayload(h, waiter ? waiter->sink : std::span<uint8_t>(), &reply)) break;
      if (waiter) waiter->reply.set_value(std::move(reply));
    }
    self->Break();
  }

  bool ReadPayload(const FrameHeader& h, std::span<uint8_t> sink, Reply* r) {
    asio::error_code ec;
    size_t prefix = 0;
    if (h.status == 0 && h.payload_len >= 4 && h.payload_len - 4 <= sink.size()) {
      r->payload.resize(4);
      asio::read(socket, asio::buffer(r->payload), ec);
      if (ec) return false;
      uint32_t len = 0;
      std::memcpy(&len, r->payload.data(), 4);
      if (len == h.payload_len - 4) {
        asio::read(socket, asio::buffer(sink.data(), len), ec);
        r->in_sink = true;
        return !ec;
      }
      prefix = 4;  // not a bytes reply after all: the rest goes to `payload`
    }
    r->payload.resize(h.payload_len);
    asio::read(socket, asio::buffer(r->payload.data() + prefix, h.payload_len - prefix), ec);
    return !ec;
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
                                   std::span<uint8_t> sink, bool* broken, bool* unsent) {
  *broken = false;
  *unsent = true;
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
      *broken = true;
      return Status::Error(EIO, fmt::format("{}: connection lost before {}", name_, OpName(op)));
    }
    Link::Waiter& w = link->pending[h.request_id];
    w.sink = sink;
    reply = w.reply.get_future();
  }
  HeaderBytes header = EncodeHeader(h);
  *unsent = false;
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
    bool reading;
    {
      std::lock_guard lock(link->mu);
      reading = link->pending.erase(h.request_id) == 0;
    }
    link->Break();
    // The reader took this call and may be writing into `sink`: the broken
    // socket ends that soon, and only then may the caller's buffer go.
    if (reading) reply.wait();
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
                               bool idempotent, std::span<uint8_t> sink, bool* maybe_sent) {
  bool sent = false;
  Result<Reply> r = Status::Ok();
  for (int attempt = 1;; ++attempt) {
    const uint64_t epoch = epoch_;
    bool broken = false, unsent = false;
    r = CallOnce(op, fields, data, sink, &broken, &unsent);
    sent |= !unsent;
    // A request that never left (the connection was already known to be
    // lost) can always go again; one that may have been served only if it
    // is idempotent.
    if (!r.ok() && broken && (idempotent || unsent)) {
      r = CallOnce(op, fields, data, sink, &broken, &unsent);
      sent |= !unsent;
    }
    // A server on another membership version carried out nothing.
    if (!r.ok() || r->status != ESTALE || r->epoch == epoch) break;
    const bool resend = on_mismatch_ && on_mismatch_(this, *r);
    if (!resend || attempt == kMaxResends) {
      r = Status::Error(ERESTART, fmt::format("{} is on membership version {}, this process on {}",
                                              name_, r->epoch, epoch));
      break;
    }
    // A server that is behind needs a moment to catch up.
    if (epoch_ == epoch) std::this_thread::sleep_for(attempt * kBehindPause);
  }
  if (maybe_sent) *maybe_sent = sent;
  if (!r.ok() && !IsMembershipMismatch(r.status())) spdlog::debug("{}", r.status().message());
  return r;
}

}  // namespace sealfs
