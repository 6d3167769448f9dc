#include "request_handler.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

namespace sealfs {
namespace {

constexpr uint32_t kMaxReadLength = 4u << 20;
// Pages of the fsck scans: well under the frame limit.
constexpr uint32_t kMaxFsckScanBytes = 1u << 20;
constexpr uint32_t kMaxFsckChunks = 16384;

// Decodes Req, runs fn(req, &resp), encodes Resp on success.
template <class Req, class Resp, class Fn>
Status Run(std::span<const uint8_t> payload, std::vector<uint8_t>* reply, Fn fn) {
  Req req;
  if (!Decode(payload, &req)) return Status::Error(EINVAL, "malformed request payload");
  Resp resp;
  Status s = fn(req, &resp);
  if (s.ok()) Encode(resp, reply);
  return s;
}

}  // namespace

bool RequestHandler::IsQuickRead(Op op) {
  switch (op) {
    case Op::kPing:
    case Op::kLookup:
    case Op::kGetattr:
    case Op::kLookupCaching:
    case Op::kGetattrCaching:
    case Op::kCacheRenew:
    case Op::kReadlink:
    case Op::kGetxattr:
    case Op::kListxattr:
      return true;
    default:
      return false;
  }
}

bool RequestHandler::IsPeerStep(Op op) {
  switch (op) {
    case Op::kPeerPrepare:
    case Op::kPeerFinish:
    case Op::kTxnStatus:
    case Op::kPeerRenameLock:
      return true;
    default:
      return false;
  }
}

bool RequestHandler::AnyMembership(Op op) {
  switch (op) {
    case Op::kMembershipGet:
    case Op::kMembershipOffer:
    case Op::kAdminXdp:
    case Op::kAdminMigration:
    case Op::kCacheRegister:
    case Op::kCacheRenew:
      return true;
    default:
      return false;
  }
}

bool RequestHandler::TouchesChunks(Op op) {
  return op == Op::kRead || op == Op::kWrite || op == Op::kPeerTruncChunks;
}

bool RequestHandler::ServedWhileLeaving(Op op) {
  switch (op) {
    case Op::kPing:
    case Op::kMigrateList:
    case Op::kMigratePull:
    case Op::kMigrateDrop:
    case Op::kMigrateMeta:
    case Op::kMigrateMetaDone:
      return true;
    default:
      return AnyMembership(op);
  }
}

bool RequestHandler::ExplainsFailure(Op op) {
  return op == Op::kAdminXdp || op == Op::kAdminMigration;
}

void RequestHandler::Handle(const FrameHeader& h, std::span<const uint8_t> payload, int32_t* status,
                            std::vector<uint8_t>* reply, uint64_t* epoch) {
  Op op = static_cast<Op>(h.opcode);
  std::optional<ClusterView::Serving> serving;
  if (TouchesChunks(op)) serving.emplace(&membership_->view());
  std::shared_ptr<const ClusterView::Members> members = membership_->view().Current();
  *epoch = members->config.version;
  if (h.epoch != *epoch && !AnyMembership(op)) {
    *status = ESTALE;
    if (h.epoch < *epoch) {
      SignedMembership record = members->record;
      Encode(record, reply);
    }
    return;
  }
  if (members->config.Leaving(meta_->server_id()) && !ServedWhileLeaving(op)) {
    // The heir serves this server's inodes now: ERESTART routes the request
    // there.
    *status = ERESTART;
    return;
  }
  Status s = Dispatch(op, payload, reply);
  if (!s.ok()) {
    reply->clear();
    if (ExplainsFailure(op)) {
      AdminReply why{s.message().empty() ? s.ToString() : s.message()};
      Encode(why, reply);
    }
    if (s.err() == EIO || s.err() == EREMOTE || s.err() == ENOSPC)
      spdlog::warn("{} failed: {}", OpName(op), s.ToString());
    else
      spdlog::debug("{} failed: {}", OpName(op), s.ToString());
  }
  *status = s.err();
}

Status RequestHandler::Read(std::span<const uint8_t> payload, std::vector<uint8_t>* reply) {
  ReadReq req;
  if (!Decode(payload, &req)) return Status::Error(EINVAL, "malformed READ");
  if (req.length > kMaxReadLength) return Status::Error(EINVAL, "READ too long");
  if (Status s = migrator_->EnsureHere(req.ino, req.chunk); !s.ok()) return s;
  // The reply is a BytesResp: u32 length, then the bytes, read in place.
  reply->resize(4 + req.length);
  Result<size_t> n = chunks_->Read(req.ino, req.chunk, req.offset,
                                   std::span<uint8_t>(reply->data() + 4, req.length));
  if (!n.ok()) return n.status();
  uint32_t len = static_cast<uint32_t>(*n);
  std::memcpy(reply->data(), &len, 4);
  reply->resize(4 + len);
  return Status::Ok();
}

Status RequestHandler::Statfs(std::vector<uint8_t>* reply) {
  Result<ChunkStore::Space> space = chunks_->Statfs();
  if (!space.ok()) return space.status();
  StatfsResp r{.bytes_total = space->total, .bytes_free = space->free, .bytes_avail = space->avail};
  // Inodes live in LevelDB; the data file system's free inodes bound how
  // many more files (chunk files) this server can take.
  r.inodes_total = ns_->InodeCount() + space->files_free;
  r.inodes_free = space->files_free;
  Encode(r, reply);
  return Status::Ok();
}

Status RequestHandler::ServerStatus(std::vector<uint8_t>* reply) {
  std::shared_ptr<const ClusterView::Members> m = membership_->view().Current();
  const ServerId self = meta_->server_id();
  ChunkMigrator::Progress progress = migrator_->progress();
  MetadataHandoff::Progress handoff = handoff_->progress();
  ServerStatusResp r{.server_id = self,
                     .membership = m->record,
                     .inodes = ns_->InodeCount(),
                     .migrating = progress.active || handoff.importing,
                     .migrating_to = progress.version,
                     .pulled_chunks = progress.pulled_chunks,
                     .pulled_bytes = progress.pulled_bytes,
                     .migration_paused = progress.paused,
                     .migration_rate = progress.rate,
                     .leaving = handoff.leaving,
                     .metadata_handed_over = handoff.handed_over,
                     .importing_metadata = handoff.importing};
  if (Result<ChunkStore::Space> space = chunks_->Statfs(); space.ok()) {
    r.bytes_total = space->total;
    r.bytes_free = space->avail;
  }
  chunks_->ForEachChunk([&](Ino ino, uint64_t index, uint64_t bytes) {
    ++r.chunks;
    r.chunk_bytes += bytes;
    if (m->placement.ChunkServer(ino, index) != self) {
      ++r.outgoing_chunks;
      r.outgoing_bytes += bytes;
    }
  });
  Encode(r, reply);
  return Status::Ok();
}

Status RequestHandler::CachingLookup(const CachingLookupReq& q, Entry* e) {
  if (!cache_) return Status::Error(ENOSYS, "this server keeps no cache sessions");
  // The interest is recorded before the read (cache_registry.h). The child's
  // inode is known only after the entry is read, so once it is noted the
  // entry is read again, until the two reads agree.
  if (Status s = cache_->NoteDir(q.client, q.parent); !s.ok()) return s;
  LookupReq plain{q.parent, q.name};
  if (Status s = ns_->Lookup(plain, e); !s.ok()) return s;
  for (int tries = 0; e->has_attr && tries < 100; ++tries) {
    if (Status s = cache_->NoteAttr(q.client, e->ino); !s.ok()) return s;
    Entry again;
    if (Status s = ns_->Lookup(plain, &again); !s.ok()) return s;
    bool same = again.ino == e->ino;
    *e = again;
    if (same) return Status::Ok();
  }
  return e->has_attr ? Status::Error(EAGAIN, "entry changed under a caching lookup") : Status::Ok();
}

Status RequestHandler::CachingGetattr(const CachingInoReq& q, Attr* a) {
  if (!cache_) return Status::Error(ENOSYS, "this server keeps no cache sessions");
  if (Status s = cache_->NoteAttr(q.client, q.ino); !s.ok()) return s;
  return ns_->Getattr(q.ino, a);
}

Status RequestHandler::AdminXdp(const AdminXdpReq& q, AdminReply* r) {
  if (!admin_ || !xdp_) return Status::Error(ENOSYS, "this server takes no ADMIN_XDP");
  const auto action = static_cast<AdminXdpAction>(q.body.action);
  const auto mode = static_cast<AdminXdpMode>(q.body.mode);
  if ((action != AdminXdpAction::kAttach && action != AdminXdpAction::kDetach) ||
      (mode != AdminXdpMode::kNative && mode != AdminXdpMode::kGeneric))
    return Status::Error(EINVAL, "unknown ADMIN_XDP action or mode");
  if (Status s = admin_->Admit(q); !s.ok()) {
    spdlog::warn("ADMIN_XDP refused: {}", s.message());
    return s;
  }
  Result<std::string> done = action == AdminXdpAction::kDetach
                                 ? xdp_->Detach()
                                 : xdp_->Attach(q.body.interface, mode == AdminXdpMode::kGeneric
                                                                      ? XdpProgram::Mode::kGeneric
                                                                      : XdpProgram::Mode::kNative);
  if (!done.ok()) {
    spdlog::warn("ADMIN_XDP from the loader failed: {}", done.status().message());
    return done.status();
  }
  r->message = *done;
  return Status::Ok();
}

Status RequestHandler::Dispatch(Op op, std::span<const uint8_t> payload,
                                std::vector<uint8_t>* reply) {
  switch (op) {
    case Op::kPing:
      return Status::Ok();
    case Op::kLookup:
      return Run<LookupReq, Entry>(payload, reply,
                                   [&](auto& q, auto* r) { return ns_->Lookup(q, r); });
    case Op::kGetattr:
      return Run<InoReq, Attr>(payload, reply,
                               [&](auto& q, auto* r) { return ns_->Getattr(q.ino, r); });
    case Op::kLookupCaching:
      return Run<CachingLookupReq, Entry>(payload, reply,
                                          [&](auto& q, auto* r) { return CachingLookup(q, r); });
    case Op::kGetattrCaching:
      return Run<CachingInoReq, Attr>(payload, reply,
                                      [&](auto& q, auto* r) { return CachingGetattr(q, r); });
    case Op::kCacheRenew:
      return Run<CacheRenewReq, Empty>(payload, reply, [&](auto& q, auto*) {
        return cache_ ? cache_->Renew(q.client)
                      : Status::Error(ENOSYS, "this server keeps no cache sessions");
      });
    case Op::kSetattr:
      return Run<SetattrReq, Attr>(payload, reply,
                                   [&](auto& q, auto* r) { return ns_->Setattr(q, r); });
    case Op::kMknod:
      return Run<MknodReq, Entry>(payload, reply,
                                  [&](auto& q, auto* r) { return ns_->Mknod(q, r); });
    case Op::kUnlink:
      return Run<UnlinkReq, UnlinkResp>(payload, reply,
                                        [&](auto& q, auto* r) { return ns_->Unlink(q, r); });
    case Op::kRename:
      return Run<RenameReq, UnlinkResp>(payload, reply,
                                        [&](auto& q, auto* r) { return ns_->Rename(q, r); });
    case Op::kLink:
      return Run<LinkReq, Entry>(payload, reply, [&](auto& q, auto* r) { return ns_->Link(q, r); });
    case Op::kReaddir:
      return Run<ReaddirReq, ReaddirResp>(payload, reply,
                                          [&](auto& q, auto* r) { return ns_->Readdir(q, r); });
    case Op::kReadlink:
      return Run<InoReq, BytesResp>(
          payload, reply, [&](auto& q, auto* r) { return ns_->Readlink(q.ino, &r->data); });
    case Op::kStatfs:
      return Statfs(reply);
    case Op::kMembershipGet:
      return ServerStatus(reply);
    case Op::kMigrateList:
      return Run<MigrateListReq, FsckListChunksResp>(
          payload, reply, [&](auto& q, auto* r) { return migrator_->List(q, r); });
    case Op::kMigratePull:
      return Run<MigratePullReq, MigratePullResp>(
          payload, reply, [&](auto& q, auto* r) { return migrator_->Pull(q, r); });
    case Op::kMigrateDrop:
      return Run<ChunkRef, Empty>(payload, reply,
                                  [&](auto& q, auto*) { return migrator_->Drop(q); });
    case Op::kMigrateMeta:
      return Run<MigrateMetaReq, FsckScanMetaResp>(
          payload, reply, [&](auto& q, auto* r) { return handoff_->Export(q, r); });
    case Op::kMigrateMetaDone:
      return Run<MembershipVersion, Empty>(
          payload, reply, [&](auto& q, auto*) { return handoff_->Exported(q.version); });
    case Op::kMembershipOffer:
      return Run<SignedMembership, MembershipVersion>(payload, reply, [&](auto& q, auto* r) {
        Result<uint64_t> v = membership_->Offer(q);
        if (!v.ok()) return v.status();
        r->version = *v;
        return Status::Ok();
      });
    case Op::kAdminXdp:
      return Run<AdminXdpReq, AdminReply>(payload, reply,
                                          [&](auto& q, auto* r) { return AdminXdp(q, r); });
    case Op::kAdminMigration:
      return Run<AdminMigrationReq, AdminReply>(payload, reply, [&](auto& q, auto* r) {
        if (!admin_) return Status::Error(ENOSYS, "this server takes no ADMIN_MIGRATION");
        if (Status s = admin_->Admit(q); !s.ok()) return s;
        if (Status s = migrator_->SetControl(q.body.paused, q.body.rate); !s.ok()) return s;
        r->message = q.body.paused ? "background migration paused" : "background migration runs";
        return Status::Ok();
      });
    case Op::kSetxattr:
      return Run<XattrReq, Empty>(payload, reply, [&](auto& q, auto*) { return ns_->SetXattr(q); });
    case Op::kGetxattr:
      return Run<XattrReq, BytesResp>(payload, reply,
                                      [&](auto& q, auto* r) { return ns_->GetXattr(q, &r->data); });
    case Op::kListxattr:
      return Run<InoReq, BytesResp>(
          payload, reply, [&](auto& q, auto* r) { return ns_->ListXattr(q.ino, &r->data); });
    case Op::kRemovexattr:
      return Run<XattrReq, Empty>(payload, reply,
                                  [&](auto& q, auto*) { return ns_->RemoveXattr(q); });
    case Op::kCommitWrite:
      return Run<CommitWriteReq, Attr>(payload, reply,
                                       [&](auto& q, auto* r) { return ns_->CommitWrite(q, r); });
    case Op::kDropOrphan:
      return Run<InoReq, Empty>(payload, reply,
                                [&](auto& q, auto*) { return ns_->DropOrphan(q.ino); });
    case Op::kRead:
      return Read(payload, reply);
    case Op::kWrite:
      return Run<WriteReq, WriteResp>(payload, reply, [&](auto& q, auto* r) {
        if (Status s = migrator_->EnsureHere(q.ino, q.chunk); !s.ok()) return s;
        Result<int64_t> grown = chunks_->Write(q.ino, q.chunk, q.offset, q.data);
        if (!grown.ok()) return grown.status();
        r->blocks_delta = *grown;
        return Status::Ok();
      });
    case Op::kSyncChunks:
      return Run<InoReq, Empty>(payload, reply,
                                [&](auto& q, auto*) { return chunks_->Sync(q.ino); });
    case Op::kPeerTruncChunks:
      return Run<PeerTruncChunksReq, WriteResp>(payload, reply, [&](auto& q, auto* r) {
        Result<int64_t> freed = migrator_->Truncate(q.ino, q.size);
        if (!freed.ok()) return freed.status();
        r->blocks_delta = *freed;
        return Status::Ok();
      });
    case Op::kPeerPrepare:
      return Run<PeerPrepareReq, PeerPrepareResp>(
          payload, reply, [&](auto& q, auto* r) { return participant_->Prepare(&q, r); });
    case Op::kPeerFinish:
      return Run<PeerFinishReq, Empty>(
          payload, reply, [&](auto& q, auto*) { return participant_->Finish(q.txn, q.commit); });
    case Op::kTxnStatus:
      return Run<U64Resp, U64Resp>(payload, reply, [&](auto& q, auto* r) {
        r->value = static_cast<uint64_t>(coordinator_->State(q.value));
        return Status::Ok();
      });
    case Op::kPeerRenameLock:
      return Run<RenameLockReq, Empty>(
          payload, reply, [&](auto& q, auto*) { return coordinator_->HandleDirMoveLock(q); });
    case Op::kFsckScanMeta:
      return Run<FsckScanMetaReq, FsckScanMetaResp>(payload, reply, [&](auto& q, auto* r) {
        uint32_t max = std::clamp<uint32_t>(q.max_bytes, 1, kMaxFsckScanBytes);
        r->eof = meta_->ScanRaw(q.prefix, q.start, max, &r->records, &r->next);
        return Status::Ok();
      });
    case Op::kFsckListChunks:
      return Run<FsckListChunksReq, FsckListChunksResp>(payload, reply, [&](auto& q, auto* r) {
        uint32_t max = std::clamp<uint32_t>(q.max_entries, 1, kMaxFsckChunks);
        r->eof =
            chunks_->ListChunkPage(q.ino, q.index, max, &r->chunks, &r->next_ino, &r->next_index);
        return Status::Ok();
      });
    default:
      return Status::Error(ENOSYS, fmt::format("unknown opcode {}", static_cast<int>(op)));
  }
}

}  // namespace sealfs
