// RequestHandler: decodes one request frame, runs it against this server's
// metadata and chunk stores, and encodes the reply. Malformed payloads are
// answered with EINVAL (the frame itself was well-formed, so the connection
// stays up); unknown opcodes with ENOSYS.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "cache_registry.h"
#include "chunk_store.h"
#include "frame.h"
#include "meta_store.h"
#include "namespace_service.h"
#include "txn_coordinator.h"
#include "txn_participant.h"

namespace sealfs {

class RequestHandler {
 public:
  // `meta` is read directly only by the fsck scans.
  RequestHandler(NamespaceService* ns, const MetaStore* meta, ChunkStore* chunks,
                 TxnParticipant* participant, TxnCoordinator* coordinator, uint64_t epoch)
      : ns_(ns),
        meta_(meta),
        chunks_(chunks),
        participant_(participant),
        coordinator_(coordinator),
        epoch_(epoch) {}

  // Serves the caching LOOKUP/GETATTR and CACHE_RENEW from `cache`.
  void set_cache(CacheRegistry* cache) { cache_ = cache; }

  // True for operations that only read metadata: they never block.
  static bool IsQuickRead(Op op);
  // True for the steps of other servers' operations: they run on their own
  // workers, so that operations waiting on each other's servers cannot
  // starve each other of threads.
  static bool IsPeerStep(Op op);

  uint64_t epoch() const { return epoch_; }

  // Fills *status (0 or errno) and *reply for the request.
  void Handle(const FrameHeader& h, std::span<const uint8_t> payload, int32_t* status,
              std::vector<uint8_t>* reply);

 private:
  Status Dispatch(Op op, std::span<const uint8_t> payload, std::vector<uint8_t>* reply);
  Status Read(std::span<const uint8_t> payload, std::vector<uint8_t>* reply);
  Status Statfs(std::vector<uint8_t>* reply);
  Status CachingLookup(const CachingLookupReq& q, Entry* e);
  Status CachingGetattr(const CachingInoReq& q, Attr* a);

  NamespaceService* ns_;
  const MetaStore* meta_;
  ChunkStore* chunks_;
  TxnParticipant* participant_;
  TxnCoordinator* coordinator_;
  uint64_t epoch_;
  CacheRegistry* cache_ = nullptr;
};

}  // namespace sealfs
