// GETATTR over the sealfs TCP protocol (docs/protocol.md) for the closed
// loop: raw frames on one connection, as many outstanding as the loop keeps
// in flight, written together and read as they come.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "closed_loop.h"
#include "ino.h"
#include "unique_fd.h"

namespace sealfs::bench {

class TcpGetattrRequests : public RequestTransport {
 public:
  // Connects from the calling thread's network namespace; `epoch` is the
  // cluster file's version.
  TcpGetattrRequests(const std::string& address, uint16_t port, uint64_t epoch, Ino ino);

  void Send(std::span<const uint64_t> ids) override;
  void Receive(std::vector<uint64_t>* ids, std::chrono::milliseconds timeout) override;

 private:
  // Checks the complete frames at the front of in_, appends their ids and
  // moves what is left of in_ to its front.
  void TakeReplies(std::vector<uint64_t>* ids);

  UniqueFd fd_;
  uint64_t epoch_;
  Ino ino_;
  std::vector<uint8_t> request_fields_;  // the encoded InoReq
  std::vector<uint8_t> out_;
  std::vector<uint8_t> in_;  // bytes read, in_len_ of them not yet taken
  size_t in_len_ = 0;
};

}  // namespace sealfs::bench
