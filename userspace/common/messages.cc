#include "messages.h"

namespace sealfs {

const char* OpName(Op op) {
  switch (op) {
    case Op::kLookup:
      return "LOOKUP";
    case Op::kGetattr:
      return "GETATTR";
    case Op::kSetattr:
      return "SETATTR";
    case Op::kMknod:
      return "MKNOD";
    case Op::kUnlink:
      return "UNLINK";
    case Op::kRename:
      return "RENAME";
    case Op::kLink:
      return "LINK";
    case Op::kReaddir:
      return "READDIR";
    case Op::kStatfs:
      return "STATFS";
    case Op::kSetxattr:
      return "SETXATTR";
    case Op::kGetxattr:
      return "GETXATTR";
    case Op::kListxattr:
      return "LISTXATTR";
    case Op::kRemovexattr:
      return "REMOVEXATTR";
    case Op::kRead:
      return "READ";
    case Op::kWrite:
      return "WRITE";
    case Op::kSyncChunks:
      return "SYNC_CHUNKS";
    case Op::kCommitWrite:
      return "COMMIT_WRITE";
    case Op::kReadlink:
      return "READLINK";
    case Op::kDropOrphan:
      return "DROP_ORPHAN";
    case Op::kPing:
      return "PING";
    case Op::kLookupCaching:
      return "LOOKUP_CACHING";
    case Op::kGetattrCaching:
      return "GETATTR_CACHING";
    case Op::kCacheRegister:
      return "CACHE_REGISTER";
    case Op::kCacheRenew:
      return "CACHE_RENEW";
    case Op::kCacheInvalidate:
      return "CACHE_INVALIDATE";
    case Op::kPeerTruncChunks:
      return "PEER_TRUNC_CHUNKS";
    case Op::kPeerPrepare:
      return "PEER_PREPARE";
    case Op::kPeerFinish:
      return "PEER_FINISH";
    case Op::kTxnStatus:
      return "TXN_STATUS";
    case Op::kPeerRenameLock:
      return "PEER_RENAME_LOCK";
    case Op::kMembershipGet:
      return "MEMBERSHIP_GET";
    case Op::kMembershipOffer:
      return "MEMBERSHIP_OFFER";
    case Op::kMigrateList:
      return "MIGRATE_LIST";
    case Op::kMigratePull:
      return "MIGRATE_PULL";
    case Op::kMigrateDrop:
      return "MIGRATE_DROP";
    case Op::kMigrateMeta:
      return "MIGRATE_META";
    case Op::kMigrateMetaDone:
      return "MIGRATE_META_DONE";
    case Op::kAdminXdp:
      return "ADMIN_XDP";
    case Op::kAdminMigration:
      return "ADMIN_MIGRATION";
    case Op::kFsckScanMeta:
      return "FSCK_SCAN_META";
    case Op::kFsckListChunks:
      return "FSCK_LIST_CHUNKS";
  }
  return "UNKNOWN";
}

}  // namespace sealfs
