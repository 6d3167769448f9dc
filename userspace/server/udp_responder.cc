#include "udp_responder.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <future>

#include "xdp_wire.h"

namespace sealfs {

UdpResponder::UdpResponder(asio::io_context& io, const NamespaceService* ns, XdpAnswers* answers)
    : ns_(ns), answers_(answers), socket_(asio::make_strand(io)) {}

Status UdpResponder::Listen(const std::string& address, uint16_t port) {
  asio::error_code ec;
  asio::ip::address addr = asio::ip::make_address(address, ec);
  if (ec)
    return Status::Error(EINVAL, fmt::format("bad listen address '{}': {}", address, ec.message()));
  // Every address of the machine, as the XDP program answers whatever the
  // destination address: the two answer the same datagrams.
  asio::ip::udp::endpoint ep(addr.is_v4() ? asio::ip::address(asio::ip::address_v4::any())
                                          : asio::ip::address(asio::ip::address_v6::any()),
                             port);
  socket_.open(ep.protocol(), ec);
  if (!ec) socket_.bind(ep, ec);
  if (ec)
    return Status::Error(EADDRINUSE,
                         fmt::format("cannot bind UDP port {}: {}", port, ec.message()));
  Receive();
  return Status::Ok();
}

void UdpResponder::Stop() {
  std::promise<void> closed;
  asio::post(socket_.get_executor(), [&] {
    asio::error_code ec;
    socket_.close(ec);
    closed.set_value();
  });
  closed.get_future().wait();
}

void UdpResponder::Receive() {
  socket_.async_receive_from(asio::buffer(buf_), sender_, [this](asio::error_code ec, size_t n) {
    if (!socket_.is_open()) return;
    if (!ec) Answer(n);
    Receive();
  });
}

void UdpResponder::Answer(size_t length) {
  Result<sealfs_xdp_msg> req = XdpParseRequest(std::span(buf_.data(), length));
  if (!req.ok()) {
    ++dropped_;
    spdlog::debug("UDP fast path: dropped a datagram from {}:{} ({}; {} so far)",
                  sender_.address().to_string(), sender_.port(), req.status().message(), dropped_);
    return;
  }
  sealfs_xdp_answer answer = Read(req->key);
  // Filled before the reply leaves: the client's next request finds it.
  answers_->Fill(answer);
  sealfs_xdp_msg reply = XdpReply(*req, answer);
  asio::error_code ec;
  socket_.send_to(asio::buffer(&reply, sizeof(reply)), sender_, 0, ec);
  if (ec) spdlog::debug("UDP fast path: reply to {} failed: {}", sender_.port(), ec.message());
}

sealfs_xdp_answer UdpResponder::Read(const sealfs_xdp_key& key) {
  const uint64_t generation = answers_->Begin();
  sealfs_xdp_payload payload{};
  Status s;
  if (key.op == SEALFS_XDP_GETATTR) {
    Attr attr;
    s = ns_->Getattr(key.ino, &attr);
    if (s.ok()) payload = XdpPayload(attr);
  } else {
    Entry entry;
    s = ns_->Lookup(LookupReq{key.ino, std::string(key.name, key.name_len)}, &entry);
    if (s.ok()) payload = XdpPayload(entry);
  }
  return XdpAnswer(key, generation, static_cast<uint16_t>(s.err()), payload);
}

}  // namespace sealfs
