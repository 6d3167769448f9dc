// RequestHandler: decodes one request frame, runs it against this server's
// metadata and chunk stores, and encodes the reply. Malformed payloads are
// answered with EINVAL (the frame itself was well-formed, so the connection
// stays up); unknown opcodes with ENOSYS.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "admin_gate.h"
#include "cache_registry.h"
#include "chunk_migrator.h"
#include "chunk_store.h"
#include "frame.h"
#include "membership_keeper.h"
#include "meta_store.h"
#include "metadata_handoff.h"
#include "namespace_service.h"
#include "txn_coordinator.h"
#include "txn_participant.h"
#include "xdp_control.h"

namespace sealfs {

class RequestHandler {
 public:
  // `meta` is read directly only by the fsck scans.
  RequestHandler(NamespaceService* ns, const MetaStore* meta, ChunkStore* chunks,
                 TxnParticipant* participant, TxnCoordinator* coordinator,
                 MembershipKeeper* membership, ChunkMigrator* migrator, MetadataHandoff* handoff)
      : ns_(ns),
        meta_(meta),
        chunks_(chunks),
        participant_(participant),
        coordinator_(coordinator),
        membership_(membership),
        migrator_(migrator),
        handoff_(handoff) {}

  // Serves the caching LOOKUP/GETATTR and CACHE_RENEW from `cache`.
  void set_cache(CacheRegistry* cache) { cache_ = cache; }
  // Serves ADMIN_XDP: requests `gate` admits change `xdp`. Without them,
  // ADMIN_XDP is refused (ENOSYS).
  void set_admin(AdminGate* gate, XdpControl* xdp) {
    admin_ = gate;
    xdp_ = xdp;
  }

  // True for operations that only read metadata: they never block.
  static bool IsQuickRead(Op op);
  // True while reads may wait for metadata records being copied here
  // (MetaStore::BeginImport).
  bool ReadsMayWait() const { return meta_->importing(); }
  // True for the steps of other servers' operations: they run on their own
  // workers, so that operations waiting on each other's servers cannot
  // starve each other of threads.
  static bool IsPeerStep(Op op);

  // True for requests answered whatever membership version they carry:
  // the membership's own, the loader's administrative ones and the cache
  // sessions' (which are per connection).
  static bool AnyMembership(Op op);
  // True for the chunk operations a membership switch must not overlap
  // (ClusterView::Serving).
  static bool TouchesChunks(Op op);
  // True for the requests a server being removed still serves: the
  // membership's and the loader's, and those that move its chunks and
  // metadata away. Any other is answered ERESTART (route it again).
  static bool ServedWhileLeaving(Op op);
  // True for requests whose reply carries a message (AdminReply) also when
  // they fail, saying why.
  static bool ExplainsFailure(Op op);

  // Fills *status (0 or errno), *reply and *epoch (the membership version
  // the request was served under) for the request. A request stamped with
  // another version is answered ESTALE; if it is older, with the current
  // membership record.
  void Handle(const FrameHeader& h, std::span<const uint8_t> payload, int32_t* status,
              std::vector<uint8_t>* reply, uint64_t* epoch);

 private:
  Status Dispatch(Op op, std::span<const uint8_t> payload, std::vector<uint8_t>* reply);
  Status Read(std::span<const uint8_t> payload, std::vector<uint8_t>* reply);
  Status Statfs(std::vector<uint8_t>* reply);
  Status ServerStatus(std::vector<uint8_t>* reply);
  Status CachingLookup(const CachingLookupReq& q, Entry* e);
  Status CachingGetattr(const CachingInoReq& q, Attr* a);
  Status AdminXdp(const AdminXdpReq& q, AdminReply* r);

  NamespaceService* ns_;
  const MetaStore* meta_;
  ChunkStore* chunks_;
  TxnParticipant* participant_;
  TxnCoordinator* coordinator_;
  MembershipKeeper* membership_;
  ChunkMigrator* migrator_;
  MetadataHandoff* handoff_;
  CacheRegistry* cache_ = nullptr;
  AdminGate* admin_ = nullptr;
  XdpControl* xdp_ = nullptr;
};

}  // namespace sealfs
