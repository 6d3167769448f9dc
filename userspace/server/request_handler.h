// RequestHandler: decodes one request frame, runs it against this server's
// metadata and chunk stores, and encodes the reply. Malformed payloads are
// answered with EINVAL (the frame itself was well-formed, so the connection
// stays up); unknown opcodes with ENOSYS.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "chunk_store.h"
#include "frame.h"
#include "meta_store.h"
#include "namespace_service.h"

namespace sealfs {

class RequestHandler {
 public:
  // `meta` is read directly only by the fsck scans.
  RequestHandler(NamespaceService* ns, const MetaStore* meta, ChunkStore* chunks, uint64_t epoch)
      : ns_(ns), meta_(meta), chunks_(chunks), epoch_(epoch) {}

  // True for operations that only read metadata: they never block.
  static bool IsQuickRead(Op op);

  // Fills *status (0 or errno) and *reply for the request.
  void Handle(const FrameHeader& h, std::span<const uint8_t> payload, int32_t* status,
              std::vector<uint8_t>* reply);

 private:
  Status Dispatch(Op op, std::span<const uint8_t> payload, std::vector<uint8_t>* reply);
  Status Read(std::span<const uint8_t> payload, std::vector<uint8_t>* reply);
  Status Statfs(std::vector<uint8_t>* reply);

  NamespaceService* ns_;
  const MetaStore* meta_;
  ChunkStore* chunks_;
  uint64_t epoch_;
};

}  // namespace sealfs
