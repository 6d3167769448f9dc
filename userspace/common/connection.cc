#include "connection.h"

#include <spdlog/spdlog.h>

namespace sealfs {

Connection::Connection(asio::ip::tcp::socket socket, std::string peer_name)
    : socket_(std::move(socket)),
      strand_(asio::make_strand(socket_.get_executor())),
      peer_name_(std::move(peer_name)) {
  asio::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
}

Connection::~Connection() { FailQueued(); }

void Connection::Start(FrameHandler on_frame, CloseHandler on_close) {
  on_frame_ = std::move(on_frame);
  on_close_ = std::move(on_close);
  asio::post(strand_, [self = shared_from_this()] { self->ReadHeader(); });
}

void Connection::ReadHeader() {
  asio::async_read(
      socket_, asio::buffer(header_buf_),
      asio::bind_executor(strand_, [self = shared_from_this()](asio::error_code ec, size_t) {
        if (ec) return self->Close(ec == asio::error::eof ? "peer closed" : ec.message());
        HeaderError err = DecodeHeader(self->header_buf_, &self->header_);
        if (err != HeaderError::kNone) {
          spdlog::warn("closing connection from {}: malformed frame ({})", self->peer_name_,
                       ToString(err));
          return self->Close("malformed frame");
        }
        self->ReadPayload();
      }));
}

void Connection::ReadPayload() {
  payload_.resize(header_.payload_len);  // bounded by kMaxPayload in DecodeHeader
  asio::async_read(
      socket_, asio::buffer(payload_),
      asio::bind_executor(strand_, [self = shared_from_this()](asio::error_code ec, size_t) {
        if (ec) return self->Close(ec.message());
        self->on_frame_(self, self->header_, std::move(self->payload_));
        self->payload_ = {};
        self->ReadHeader();
      }));
}

void Connection::Send(const FrameHeader& header, std::vector<uint8_t> fields,
                      std::string_view borrowed, std::shared_ptr<std::promise<void>> written) {
  FrameHeader h = header;
  h.payload_len = static_cast<uint32_t>(fields.size() + borrowed.size());
  Outgoing out{EncodeHeader(h), std::move(fields), borrowed, std::move(written)};
  // dispatch: runs inline when called on the strand (a reply computed in the
  // read handler), so the common case needs no thread hand-off.
  asio::dispatch(strand_, [self = shared_from_this(), out = std::move(out)]() mutable {
    if (self->closed_) {
      if (out.written) out.written->set_value();
      return;
    }
    self->queue_.push_back(std::move(out));
    if (!self->writing_) self->WriteNext();
  });
}

void Connection::WriteNext() {
  if (queue_.empty() || closed_) {
    writing_ = false;
    FailQueued();
    return;
  }
  writing_ = true;
  Outgoing& out = queue_.front();
  std::array<asio::const_buffer, 3> bufs = {asio::buffer(out.header), asio::buffer(out.fields),
                                            asio::buffer(out.borrowed.data(), out.borrowed.size())};
  asio::async_write(
      socket_, bufs,
      asio::bind_executor(strand_, [self = shared_from_this()](asio::error_code ec, size_t) {
        Outgoing done = std::move(self->queue_.front());
        self->queue_.pop_front();
        if (done.written) done.written->set_value();
        if (ec) {
          self->writing_ = false;
          self->FailQueued();
          return self->Close(ec.message());
        }
        self->WriteNext();
      }));
}

void Connection::FailQueued() {
  for (Outgoing& out : queue_)
    if (out.written) out.written->set_value();
  queue_.clear();
}

void Connection::Close(const std::string& reason) {
  std::call_once(close_once_, [&] {
    closed_ = true;
    asio::post(strand_, [self = shared_from_this(), reason] {
      asio::error_code ec;
      self->socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      self->socket_.close(ec);
      if (!self->writing_) self->FailQueued();
      if (self->on_close_) self->on_close_(reason);
    });
  });
}

}  // namespace sealfs
