// Connection: one TCP stream of frames, used by both ends of the protocol.
//
// Reading: a loop reads a header, validates it (frame.h) before allocating,
// then reads exactly payload_len bytes and hands the frame to the handler.
// A malformed frame closes this connection only, with one log line.
// Writing: Send() is thread-safe; frames are queued and written in order with
// gathered writes (header, fields, and an optional borrowed data buffer).
#pragma once

#include <asio.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "frame.h"

namespace sealfs {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using FrameHandler = std::function<void(const std::shared_ptr<Connection>&, const FrameHeader&,
                                          std::vector<uint8_t>)>;
  using CloseHandler = std::function<void(const std::string& reason)>;

  Connection(asio::ip::tcp::socket socket, std::string peer_name);
  ~Connection();

  // Starts the read loop. on_close runs once, when the connection ends for any reason.
  void Start(FrameHandler on_frame, CloseHandler on_close);

  // Queues a frame. `borrowed` is appended to the payload without copying; it
  // must stay valid until `written` (if given) is fulfilled, which happens when
  // the frame has been written or the connection failed.
  void Send(const FrameHeader& header, std::vector<uint8_t> fields, std::string_view borrowed = {},
            std::shared_ptr<std::promise<void>> written = nullptr);

  void Close(const std::string& reason);
  bool closed() const { return closed_.load(); }
  const std::string& peer_name() const { return peer_name_; }

 private:
  struct Outgoing {
    HeaderBytes header;
    std::vector<uint8_t> fields;
    std::string_view borrowed;
    std::shared_ptr<std::promise<void>> written;
  };
  void ReadHeader();
  void ReadPayload();
  void WriteNext();  // runs on strand_
  void FailQueued();

  asio::ip::tcp::socket socket_;
  asio::strand<asio::any_io_executor> strand_;
  std::string peer_name_;
  FrameHandler on_frame_;
  CloseHandler on_close_;
  std::atomic<bool> closed_{false};
  std::once_flag close_once_;

  HeaderBytes header_buf_{};
  FrameHeader header_;
  std::vector<uint8_t> payload_;

  std::deque<Outgoing> queue_;  // guarded by strand_
  bool writing_ = false;        // guarded by strand_
};

}  // namespace sealfs
