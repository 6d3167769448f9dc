// Request and response payloads of the TCP protocol (docs/protocol.md).
//
// Every message lists its fields once, in a Fields() visitor; the same list
// drives encoding (Encode) and bounds-checked decoding (Decode), so the two
// cannot drift apart. Strings and byte arrays are u32-length-prefixed;
// vectors are u32-count-prefixed.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ino.h"
#include "wire.h"

namespace sealfs {

enum class Op : uint16_t {
  // Client operations.
  kLookup = 1,
  kGetattr = 2,
  kSetattr = 3,
  kMknod = 4,   // regular files, FIFOs, devices, symlinks and directories
  kUnlink = 5,  // unlink and rmdir
  kRename = 6,
  kLink = 7,
  kReaddir = 8,
  kStatfs = 9,
  kSetxattr = 10,
  kGetxattr = 11,
  kListxattr = 12,
  kRemovexattr = 13,
  kRead = 14,
  kWrite = 15,
  kSyncChunks = 16,
  kCommitWrite = 17,
  kReadlink = 18,
  kDropOrphan = 19,
  kPing = 20,
  // The --bpf client cache (docs/design.md, "The --bpf client cache").
  kLookupCaching = 21,   // LOOKUP that lets the client cache the answer
  kGetattrCaching = 22,  // GETATTR that lets the client cache the answer
  kCacheRegister = 23,   // opens a cache session; the connection becomes its callback path
  kCacheRenew = 24,      // extends the session's lease
  // Server-to-server steps of cross-server operations (docs/design.md).
  kPeerTruncChunks = 102,
  kPeerPrepare = 103,     // apply steps of a cross-server operation, undoably
  kPeerFinish = 104,      // commit or undo the prepared steps of an operation
  kTxnStatus = 105,       // to a coordinator: what became of an operation?
  kPeerRenameLock = 106,  // to the root server: the cluster's directory-move lock
  // Membership (docs/design.md, "Membership changes"); answered whatever
  // version the request carries.
  kMembershipGet = 120,    // the server's membership and state (sealfs-loader status)
  kMembershipOffer = 121,  // a signed membership record: adopt it if newer
  // Administration from sealfs-loader, signed with the cluster secret
  // (admin_request.h); answered whatever version the request carries.
  kAdminXdp = 122,        // attach or detach this server's XDP program
  kAdminMigration = 123,  // pause, resume or limit the background chunk migration
  // Chunk migration after a membership change (docs/design.md, "Moving
  // chunks"), from a chunk's new server to its previous one.
  kMigrateList = 130,  // the chunks held here that now belong to the asker
  kMigratePull = 131,  // bytes of one of them
  kMigrateDrop = 132,  // the asker holds it now: delete it here
  // Metadata of a removed server, from its heir to it (docs/design.md,
  // "Removing servers").
  kMigrateMeta = 133,      // a page of the metadata records held here
  kMigrateMetaDone = 134,  // the heir holds them all now
  // Read-only scans for sealfs-fsck on a running cluster.
  kFsckScanMeta = 110,
  kFsckListChunks = 111,
  // Server-to-client, on a cache session's connection.
  kCacheInvalidate = 200,  // drop these cached answers, then acknowledge
};
const char* OpName(Op op);

// Inode attributes as seen by clients.
struct Attr {
  Ino ino = 0;
  uint32_t mode = 0;
  uint32_t nlink = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  uint64_t blocks = 0;  // 512-byte units actually allocated
  uint64_t rdev = 0;
  int64_t atime_ns = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  Ino parent = 0;  // directories: the parent directory (for loop checks)
  bool operator==(const Attr&) const = default;
  template <class V>
  void Fields(V& v) {
    v(ino, mode, nlink, uid, gid, size, blocks, rdev, atime_ns, mtime_ns, ctime_ns, parent);
  }
};

struct Entry {
  Ino ino = 0;
  uint32_t mode = 0;     // file type bits at least
  uint8_t has_attr = 0;  // 1 when attr is filled (inode on the same server)
  Attr attr;
  template <class V>
  void Fields(V& v) {
    v(ino, mode, has_attr, attr);
  }
};

struct Empty {
  template <class V>
  void Fields(V&) {}
};

struct InoReq {
  Ino ino = 0;
  template <class V>
  void Fields(V& v) {
    v(ino);
  }
};

struct LookupReq {
  Ino parent = 0;
  std::string name;
  template <class V>
  void Fields(V& v) {
    v(parent, name);
  }
};

// The --bpf client cache. A client that caches names a session by the
// random id it chose at start; a server answers EKEYEXPIRED to a caching
// request or a renewal of a session it does not hold (never opened, expired,
// or lost in a restart): the client must then drop everything it cached from
// that server and register again.
struct CachingLookupReq {
  uint64_t client = 0;
  Ino parent = 0;
  std::string name;
  template <class V>
  void Fields(V& v) {
    v(client, parent, name);
  }
};

struct CachingInoReq {
  uint64_t client = 0;
  Ino ino = 0;
  template <class V>
  void Fields(V& v) {
    v(client, ino);
  }
};

// REGISTER promises that the client holds nothing cached from this server.
struct CacheRegisterReq {
  uint64_t client = 0;
  uint32_t lease_ms = 0;  // asked for; the reply holds what was granted
  template <class V>
  void Fields(V& v) {
    v(client, lease_ms);
  }
};

struct CacheRegisterResp {
  uint32_t lease_ms = 0;
  template <class V>
  void Fields(V& v) {
    v(lease_ms);
  }
};

struct CacheRenewReq {
  uint64_t client = 0;
  template <class V>
  void Fields(V& v) {
    v(client);
  }
};

struct EntryName {
  Ino parent = 0;
  std::string name;
  bool operator==(const EntryName&) const = default;
  template <class V>
  void Fields(V& v) {
    v(parent, name);
  }
};

// Server to client: the answers about these inodes' attributes and these
// entries changed; the client acknowledges (an empty reply) only once it no
// longer serves them.
struct CacheInvalidateReq {
  std::vector<Ino> inodes;
  std::vector<EntryName> entries;
  template <class V>
  void Fields(V& v) {
    v(inodes, entries);
  }
};

enum SetattrValid : uint32_t {
  kSetMode = 1 << 0,
  kSetUid = 1 << 1,
  kSetGid = 1 << 2,
  kSetSize = 1 << 3,
  kSetAtime = 1 << 4,
  kSetMtime = 1 << 5,
  kSetAtimeNow = 1 << 6,
  kSetMtimeNow = 1 << 7,
  kSetCtime = 1 << 8,
};

struct SetattrReq {
  Ino ino = 0;
  uint32_t valid = 0;
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  int64_t atime_ns = 0;
  int64_t mtime_ns = 0;
  template <class V>
  void Fields(V& v) {
    v(ino, valid, mode, uid, gid, size, atime_ns, mtime_ns);
  }
};

struct MknodReq {
  Ino parent = 0;
  std::string name;
  uint32_t mode = 0;
  uint64_t rdev = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string symlink;  // target, for S_IFLNK
  template <class V>
  void Fields(V& v) {
    v(parent, name, mode, rdev, uid, gid, symlink);
  }
};

enum UnlinkFlags : uint8_t {
  kUnlinkDir = 1 << 0,         // rmdir
  kUnlinkKeepOrphan = 1 << 1,  // the caller still has the file open
};

struct UnlinkReq {
  Ino parent = 0;
  std::string name;
  uint8_t flags = 0;
  template <class V>
  void Fields(V& v) {
    v(parent, name, flags);
  }
};

// Reply to UNLINK, and to RENAME about the inode its target replaced.
struct UnlinkResp {
  Ino ino = 0;           // the inode the removed entry named (0: none)
  uint8_t orphaned = 0;  // it lost its last link and was kept (kUnlinkKeepOrphan)
  template <class V>
  void Fields(V& v) {
    v(ino, orphaned);
  }
};

// Flags of RENAME beyond the renameat2() ones.
inline constexpr uint32_t kRenameKeepOrphan = 1u << 31;  // as kUnlinkKeepOrphan, for the target

struct RenameReq {
  Ino src_parent = 0;
  std::string src_name;
  Ino dst_parent = 0;
  std::string dst_name;
  uint32_t flags = 0;  // RENAME_NOREPLACE | kRenameKeepOrphan
  template <class V>
  void Fields(V& v) {
    v(src_parent, src_name, dst_parent, dst_name, flags);
  }
};

struct LinkReq {
  Ino ino = 0;
  Ino new_parent = 0;
  std::string new_name;
  template <class V>
  void Fields(V& v) {
    v(ino, new_parent, new_name);
  }
};

struct ReaddirReq {
  Ino dir = 0;
  uint64_t cookie = 0;  // 0 = from the start; otherwise a DirEntry::next_cookie
  uint32_t max_entries = 0;
  uint8_t plus = 0;  // include attributes of inodes on the same server
  template <class V>
  void Fields(V& v) {
    v(dir, cookie, max_entries, plus);
  }
};

struct DirEntry {
  std::string name;
  Entry entry;
  uint64_t next_cookie = 0;
  template <class V>
  void Fields(V& v) {
    v(name, entry, next_cookie);
  }
};

struct ReaddirResp {
  std::vector<DirEntry> entries;
  uint8_t eof = 0;
  template <class V>
  void Fields(V& v) {
    v(entries, eof);
  }
};

struct StatfsResp {
  uint64_t bytes_total = 0;
  uint64_t bytes_free = 0;
  uint64_t bytes_avail = 0;
  uint64_t inodes_total = 0;
  uint64_t inodes_free = 0;
  template <class V>
  void Fields(V& v) {
    v(bytes_total, bytes_free, bytes_avail, inodes_total, inodes_free);
  }
};

struct XattrReq {
  Ino ino = 0;
  std::string name;
  std::string value;
  uint32_t flags = 0;  // XATTR_CREATE / XATTR_REPLACE
  template <class V>
  void Fields(V& v) {
    v(ino, name, value, flags);
  }
};

struct BytesResp {
  std::string data;
  template <class V>
  void Fields(V& v) {
    v(data);
  }
};

struct ReadReq {
  Ino ino = 0;
  uint64_t chunk = 0;
  uint32_t offset = 0;  // within the chunk
  uint32_t length = 0;
  template <class V>
  void Fields(V& v) {
    v(ino, chunk, offset, length);
  }
};

// The data of a write travels as a separate buffer (scatter/gather): the
// encoded header fields below are followed by a u32 length and the bytes.
struct WriteReq {
  Ino ino = 0;
  uint64_t chunk = 0;
  uint32_t offset = 0;
  std::string_view data;  // decode: a view into the received frame
  template <class V>
  void Fields(V& v) {
    v(ino, chunk, offset, data);
  }
};

enum CommitFlags : uint8_t {
  kCommitTouchMtime = 1 << 0,  // data changed: mtime = ctime = now
  kCommitTouchAtime = 1 << 1,  // data was read: atime = now, relatime rules
};

// Sent to the home server after writes (on flush, fsync and release) so that
// the size, block count and times follow the data.
struct CommitWriteReq {
  Ino ino = 0;
  uint64_t min_size = 0;     // size becomes max(size, min_size)
  int64_t blocks_delta = 0;  // 512-byte blocks the chunk writes allocated
  uint8_t flags = 0;         // CommitFlags
  template <class V>
  void Fields(V& v) {
    v(ino, min_size, blocks_delta, flags);
  }
};

// Reply to WRITE: how many 512-byte blocks the chunk file grew by.
struct WriteResp {
  int64_t blocks_delta = 0;
  template <class V>
  void Fields(V& v) {
    v(blocks_delta);
  }
};

struct U64Resp {
  uint64_t value = 0;
  template <class V>
  void Fields(V& v) {
    v(value);
  }
};

// ---- server-to-server ----

struct PeerTruncChunksReq {
  Ino ino = 0;
  uint64_t size = 0;  // drop every byte at or beyond this offset
  template <class V>
  void Fields(V& v) {
    v(ino, size);
  }
};

// One change a cross-server operation makes on one server (docs/design.md,
// "Cross-server operations"). A participant applies it at PEER_PREPARE
// together with what undoes it, and finishes or undoes it at PEER_FINISH.
enum class StepKind : uint8_t {
  kCreateInode = 1,  // attr: a new inode (a directory); the participant picks its number
  kAddLink = 2,      // ino gains a link (not a directory)
  kDropLink = 3,     // ino loses a link; at commit an inode left without links goes
  kRemoveDir = 4,    // ino, an empty directory, goes at commit (link count 0 meanwhile)
  kSetParent = 5,    // directory ino's parent pointer becomes `parent`
  kPutEntry = 6,     // entry (parent, name) -> ino replaces `expect` (0: none)
  kDeleteEntry = 7,  // entry (parent, name) -> ino goes
};

enum StepFlags : uint8_t {
  kStepKeepOrphan = 1 << 0,  // kDropLink: keep an inode left without links (still open)
};

struct PeerStep {
  uint8_t kind = 0;  // StepKind
  uint8_t flags = 0;
  Ino ino = 0;
  Ino parent = 0;
  std::string name;
  Ino expect = 0;
  int8_t dir_links = 0;  // entry steps: change of the parent directory's link count
  Attr attr;             // kCreateInode
  template <class V>
  void Fields(V& v) {
    v(kind, flags, ino, parent, name, expect, dir_links, attr);
  }
};

struct PeerPrepareReq {
  uint64_t txn = 0;  // the coordinator's operation id (its server id in the top bits)
  std::vector<PeerStep> steps;
  template <class V>
  void Fields(V& v) {
    v(txn, steps);
  }
};

// Per step, the attributes of the inode it changed once prepared (the new
// inode of kCreateInode); empty attributes for entry steps.
struct PeerPrepareResp {
  std::vector<Attr> attrs;
  template <class V>
  void Fields(V& v) {
    v(attrs);
  }
};

struct PeerFinishReq {
  uint64_t txn = 0;
  uint8_t commit = 0;  // 1: commit, 0: undo
  template <class V>
  void Fields(V& v) {
    v(txn, commit);
  }
};

enum class TxnState : uint8_t {
  kUnknown = 0,    // never committed and no longer running: undo
  kRunning = 1,    // the coordinator is still deciding: ask again later
  kCommitted = 2,  // commit
};

struct RenameLockReq {
  uint64_t owner = 0;   // an operation id; on release, (server, 0) frees that server's hold
  uint8_t acquire = 0;  // 1: acquire (EAGAIN while another owner holds it), 0: release
  template <class V>
  void Fields(V& v) {
    v(owner, acquire);
  }
};

// ---- sealfs-fsck on a running cluster ----

// One page of raw metadata records (MetaStore key layout) whose keys start
// with `prefix`, from key `start` on (empty: from the first).
struct FsckScanMetaReq {
  std::string prefix;
  std::string start;
  uint32_t max_bytes = 0;  // the server caps it; at least one record is returned
  template <class V>
  void Fields(V& v) {
    v(prefix, start, max_bytes);
  }
};

struct KeyValue {
  std::string key;
  std::string value;
  template <class V>
  void Fields(V& v) {
    v(key, value);
  }
};

struct FsckScanMetaResp {
  std::vector<KeyValue> records;
  std::string next;  // the key to continue from, unless eof
  uint8_t eof = 0;
  template <class V>
  void Fields(V& v) {
    v(records, next, eof);
  }
};

// One page of a server's chunk files, in (ino, index) order from (ino, index) on.
struct FsckListChunksReq {
  Ino ino = 0;
  uint64_t index = 0;
  uint32_t max_entries = 0;  // the server caps it
  template <class V>
  void Fields(V& v) {
    v(ino, index, max_entries);
  }
};

struct ChunkInfo {
  Ino ino = 0;
  uint64_t index = 0;
  uint64_t size = 0;  // bytes in the chunk file (its length, holes included)
  template <class V>
  void Fields(V& v) {
    v(ino, index, size);
  }
};

struct FsckListChunksResp {
  std::vector<ChunkInfo> chunks;
  Ino next_ino = 0;  // where to continue, unless eof
  uint64_t next_index = 0;
  uint8_t eof = 0;
  template <class V>
  void Fields(V& v) {
    v(chunks, next_ino, next_index, eof);
  }
};

// A membership record (membership.h) and its MAC; the payload of
// MEMBERSHIP_OFFER and of an ESTALE reply to a request from an older version.
struct SignedMembership {
  std::string record;  // Encode(ClusterConfig)
  std::string mac;     // HMAC-SHA256 of the record; empty when never signed
  template <class V>
  void Fields(V& v) {
    v(record, mac);
  }
};

struct MembershipVersion {
  uint64_t version = 0;
  template <class V>
  void Fields(V& v) {
    v(version);
  }
};

// MEMBERSHIP_GET: what `sealfs-loader status` shows of one server.
struct ServerStatusResp {
  uint16_t server_id = 0;
  SignedMembership membership;
  uint64_t bytes_total = 0;  // the data directory's file system
  uint64_t bytes_free = 0;
  uint64_t inodes = 0;       // inodes whose home is this server
  uint64_t chunks = 0;       // chunk files held here
  uint64_t chunk_bytes = 0;  // bytes allocated to them
  // Chunk migration (docs/design.md, "Moving chunks").
  uint8_t migrating = 0;         // this server still pulls chunks moved to it
  uint64_t migrating_to = 0;     // the membership version it moves chunks for
  uint64_t outgoing_chunks = 0;  // chunks held here that belong elsewhere now
  uint64_t outgoing_bytes = 0;
  uint64_t pulled_chunks = 0;  // pulled here since this server started
  uint64_t pulled_bytes = 0;
  uint8_t migration_paused = 0;  // ADMIN_MIGRATION's settings
  uint64_t migration_rate = 0;
  // Removing servers (docs/design.md, "Removing servers").
  uint8_t leaving = 0;               // this server is being removed
  uint8_t metadata_handed_over = 0;  // leaving: its heir holds all its metadata
  uint8_t importing_metadata = 0;    // an heir still copying a leaving server's metadata
  template <class V>
  void Fields(V& v) {
    v(server_id, membership, bytes_total, bytes_free, inodes, chunks, chunk_bytes, migrating,
      migrating_to, outgoing_chunks, outgoing_bytes, pulled_chunks, pulled_bytes, migration_paused,
      migration_rate, leaving, metadata_handed_over, importing_metadata);
  }
};

// MIGRATE_META: a page of the metadata records of a leaving server (every
// key of its store but the counters), from key `start` on; the reply is an
// FsckScanMetaResp.
struct MigrateMetaReq {
  std::string start;
  template <class V>
  void Fields(V& v) {
    v(start);
  }
};

// MIGRATE_LIST: a page of the chunk files held here, in (ino, index) order
// from (ino, index) on, keeping those the current placement gives `owner`.
struct MigrateListReq {
  uint16_t owner = 0;
  Ino ino = 0;
  uint64_t index = 0;
  uint32_t max_entries = 0;  // the server caps it
  template <class V>
  void Fields(V& v) {
    v(owner, ino, index, max_entries);
  }
};

struct ChunkRef {
  Ino ino = 0;
  uint64_t index = 0;
  template <class V>
  void Fields(V& v) {
    v(ino, index);
  }
};

// MIGRATE_PULL: bytes [offset, offset + length) of a chunk file.
struct MigratePullReq {
  Ino ino = 0;
  uint64_t index = 0;
  uint64_t offset = 0;
  uint32_t length = 0;
  template <class V>
  void Fields(V& v) {
    v(ino, index, offset, length);
  }
};

struct MigratePullResp {
  uint8_t exists = 0;  // 0: no such chunk file here
  uint64_t size = 0;   // the chunk file's length
  std::string data;    // short at the file's end
  template <class V>
  void Fields(V& v) {
    v(exists, size, data);
  }
};

// ADMIN_XDP (admin_request.h): what the loader asks of a server's XDP
// program. The MAC covers Encode(AdminXdpBody).
enum class AdminXdpAction : uint8_t { kAttach = 1, kDetach = 2 };
enum class AdminXdpMode : uint8_t { kNative = 0, kGeneric = 1 };
struct AdminXdpBody {
  static constexpr std::string_view kDomain = "sealfs admin xdp";
  uint8_t action = 0;      // AdminXdpAction
  std::string interface;   // attach: the network interface; detach: empty
  uint8_t mode = 0;        // AdminXdpMode (attach)
  uint64_t issued_ms = 0;  // when the loader made the request (Unix time, ms)
  template <class V>
  void Fields(V& v) {
    v(action, interface, mode, issued_ms);
  }
};

// ADMIN_MIGRATION: how this server moves chunks in the background (chunks a
// client asks for are pulled at once whatever this says).
struct AdminMigrationBody {
  static constexpr std::string_view kDomain = "sealfs admin migration";
  uint8_t paused = 0;
  uint64_t rate = 0;  // bytes per second pulled at most; 0: no limit
  uint64_t issued_ms = 0;
  template <class V>
  void Fields(V& v) {
    v(paused, rate, issued_ms);
  }
};

// An administrative request: its body and the MAC of Encode(body) under the
// body's domain (admin_request.h).
template <class Body>
struct SignedAdmin {
  Body body;
  std::string mac;  // HMAC-SHA256 with the cluster secret
  template <class V>
  void Fields(V& v) {
    v(body, mac);
  }
};
using AdminXdpReq = SignedAdmin<AdminXdpBody>;
using AdminMigrationReq = SignedAdmin<AdminMigrationBody>;

// The reply to an administrative request, with status 0 or not: what the
// server did, or why it did nothing.
struct AdminReply {
  std::string message;
  template <class V>
  void Fields(V& v) {
    v(message);
  }
};

// ---- codec ----

namespace detail {

struct EncodeVisitor {
  Writer& w;
  void operator()() {}
  template <class T, class... Rest>
  void operator()(T& first, Rest&... rest) {
    One(first);
    (*this)(rest...);
  }
  void One(uint8_t& x) { w.U8(x); }
  void One(int8_t& x) { w.U8(static_cast<uint8_t>(x)); }
  void One(uint16_t& x) { w.U16(x); }
  void One(uint32_t& x) { w.U32(x); }
  void One(uint64_t& x) { w.U64(x); }
  void One(int64_t& x) { w.I64(x); }
  void One(std::string& x) { w.Bytes(x); }
  void One(std::string_view& x) { w.Bytes(x); }
  template <class T>
  void One(std::vector<T>& xs) {
    w.U32(static_cast<uint32_t>(xs.size()));
    for (auto& x : xs) One(x);
  }
  template <class T>
  void One(T& nested) {
    nested.Fields(*this);
  }
};

struct DecodeVisitor {
  Reader& r;
  void operator()() {}
  template <class T, class... Rest>
  void operator()(T& first, Rest&... rest) {
    One(first);
    (*this)(rest...);
  }
  void One(uint8_t& x) { x = r.U8(); }
  void One(int8_t& x) { x = static_cast<int8_t>(r.U8()); }
  void One(uint16_t& x) { x = r.U16(); }
  void One(uint32_t& x) { x = r.U32(); }
  void One(uint64_t& x) { x = r.U64(); }
  void One(int64_t& x) { x = r.I64(); }
  void One(std::string& x) { x = std::string(r.Bytes(r.Remaining())); }
  void One(std::string_view& x) { x = r.Bytes(r.Remaining()); }
  template <class T>
  void One(std::vector<T>& xs) {
    uint32_t n = r.U32();
    // Every element takes at least one byte: a count larger than what is left
    // is malformed, and is refused before anything is allocated.
    if (!r.ok() || n > r.Remaining()) {
      r.Fail();
      return;
    }
    xs.resize(n);
    for (auto& x : xs) {
      One(x);
      if (!r.ok()) return;
    }
  }
  template <class T>
  void One(T& nested) {
    nested.Fields(*this);
  }
};

}  // namespace detail

template <class M>
void Encode(M& msg, std::vector<uint8_t>* out) {
  Writer w(out);
  detail::EncodeVisitor v{w};
  msg.Fields(v);
}

template <class M>
std::vector<uint8_t> Encode(M& msg) {
  std::vector<uint8_t> out;
  Encode(msg, &out);
  return out;
}

// Decodes a whole payload; false if it is truncated, has trailing bytes, or
// any length field is out of range.
template <class M>
bool Decode(std::span<const uint8_t> payload, M* msg) {
  Reader r(payload);
  detail::DecodeVisitor v{r};
  msg->Fields(v);
  return r.Done();
}

}  // namespace sealfs
