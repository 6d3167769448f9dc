#include "tcp_getattr_requests.h"

#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "frame.h"
#include "messages.h"
#include "tcp.h"

namespace sealfs::bench {
namespace {

[[noreturn]] void Fail(const char* call) {
  throw std::runtime_error(fmt::format("{}: {}", call, std::strerror(errno)));
}

}  // namespace

TcpGetattrRequests::TcpGetattrRequests(const std::string& address, uint16_t port, uint64_t epoch,
                                       Ino ino)
    : fd_(it::ConnectTcp(address, port)), epoch_(epoch), ino_(ino), in_(64 * 1024) {
  if (!fd_) throw std::runtime_error(fmt::format("cannot connect to {}:{}", address, port));
  const int one = 1;
  if (::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
    Fail("TCP_NODELAY");
  InoReq req{.ino = ino};
  request_fields_ = Encode(req);
}

void TcpGetattrRequests::Send(std::span<const uint64_t> ids) {
  out_.clear();
  for (uint64_t id : ids) {
    const HeaderBytes h =
        EncodeHeader({.opcode = static_cast<uint16_t>(Op::kGetattr),
                      .request_id = id,
                      .epoch = epoch_,
                      .payload_len = static_cast<uint32_t>(request_fields_.size())});
    out_.insert(out_.end(), h.begin(), h.end());
    out_.insert(out_.end(), request_fields_.begin(), request_fields_.end());
  }
  for (size_t done = 0; done < out_.size();) {
    const ssize_t n = ::write(fd_.get(), out_.data() + done, out_.size() - done);
    if (n < 0 && errno != EINTR) Fail("write");
    if (n > 0) done += static_cast<size_t>(n);
  }
}

void TcpGetattrRequests::Receive(std::vector<uint64_t>* ids, std::chrono::milliseconds timeout) {
  pollfd p{fd_.get(), POLLIN, 0};
  const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (ready < 0 && errno != EINTR) Fail("poll");
  if (ready <= 0) return;
  const ssize_t n = ::read(fd_.get(), in_.data() + in_len_, in_.size() - in_len_);
  if (n < 0 && errno != EINTR) Fail("read");
  if (n == 0) throw std::runtime_error("the server closed the connection");
  if (n > 0) in_len_ += static_cast<size_t>(n);
  TakeReplies(ids);
}

void TcpGetattrRequests::TakeReplies(std::vector<uint64_t>* ids) {
  size_t at = 0;
  while (in_len_ - at >= kFrameHeaderSize) {
    FrameHeader h;
    const auto header =
        std::span<const uint8_t, kFrameHeaderSize>(in_.data() + at, kFrameHeaderSize);
    if (HeaderError e = DecodeHeader(header, &h); e != HeaderError::kNone)
      throw std::runtime_error("a bad reply frame: " + ToString(e));
    if (h.payload_len > in_.size() - kFrameHeaderSize)
      throw std::runtime_error(fmt::format("a reply of {} bytes", h.payload_len));
    if (in_len_ - at - kFrameHeaderSize < h.payload_len) break;
    const std::span<const uint8_t> payload(in_.data() + at + kFrameHeaderSize, h.payload_len);
    Attr attr;
    if (!(h.flags & kFlagResponse) || h.opcode != static_cast<uint16_t>(Op::kGetattr) ||
        h.status != 0 || !Decode(payload, &attr) || attr.ino != ino_)
      throw std::runtime_error(
          fmt::format("request {:#x}: not its GETATTR answer (status {})", h.request_id, h.status));
    ids->push_back(h.request_id);
    at += kFrameHeaderSize + h.payload_len;
  }
  std::memmove(in_.data(), in_.data() + at, in_len_ - at);
  in_len_ -= at;
}

}  // namespace sealfs::bench
