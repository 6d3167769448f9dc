#include "fuse_fs.h"

#include <spdlog/spdlog.h>
#include <sys/xattr.h>

#include <cstring>
#include <memory>
#include <vector>

namespace sealfs {
namespace {

constexpr size_t kMaxXattrList = 64 << 10;
constexpr size_t kKernelViewLimit = 100000;
// The shortest attribute validity the kernel can hold: it rounds any nonzero
// timeout up to one clock tick.
constexpr double kOneTick = 1e-9;

FuseFs* Self(fuse_req_t req) { return static_cast<FuseFs*>(fuse_req_userdata(req)); }

void ReplyStatus(fuse_req_t req, const Status& s) { fuse_reply_err(req, s.err()); }

timespec ToTimespec(int64_t ns) {
  return timespec{.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
}

}  // namespace

struct stat FuseFs::ToStat(const Attr& a) const {
  struct stat st {};
  st.st_ino = ToFuse(a.ino);
  st.st_mode = a.mode;
  st.st_nlink = a.nlink;
  st.st_uid = a.uid;
  st.st_gid = a.gid;
  st.st_size = static_cast<off_t>(a.size);
  st.st_blocks = static_cast<blkcnt_t>(a.blocks);
  st.st_blksize = 1 << 20;
  st.st_rdev = a.rdev;
  st.st_atim = ToTimespec(a.atime_ns);
  st.st_mtim = ToTimespec(a.mtime_ns);
  st.st_ctim = ToTimespec(a.ctime_ns);
  return st;
}

double FuseFs::AttrTimeout() const {
  if (cache_) return 0;  // the BPF program answers instead of the kernel's own cache
  // With --attr-timeout 0 the attributes a reply carries still serve the rest
  // of the system call that asked for them; the kernel can only say so with a
  // timeout, of at least one tick. Otherwise one fstatat() costs three
  // requests (GETATTR of the directory for the permission check, LOOKUP,
  // GETATTR of the file) and a create two more GETATTRs. Entries keep the
  // zero timeout, so every path lookup still asks the server.
  return opts_.attr_timeout > 0 ? opts_.attr_timeout : kOneTick;
}

void FuseFs::OverlayPendingWrites(Attr* a) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(a->ino);
  if (it == pending_.end()) return;
  a->size = std::max(a->size, it->second.end);
  int64_t blocks = static_cast<int64_t>(a->blocks) + it->second.blocks_delta;
  a->blocks = blocks > 0 ? static_cast<uint64_t>(blocks) : 0;
}

void FuseFs::ReplyAttr(fuse_req_t req, Attr a) {
  OverlayPendingWrites(&a);
  NoteKernelView(a);
  struct stat st = ToStat(a);
  fuse_reply_attr(req, &st, AttrTimeout());
}

template <class CachingReq, class Resp, class PlainCall>
Status FuseFs::CachingCall(Op caching_op, CachingReq& cq, Ino owner, Resp* resp, bool* cacheable,
                           PlainCall plain) {
  *cacheable = false;
  if (cache_ && sessions_->Open(HomeOf(owner))) {
    Status s = client_->Meta(caching_op, owner, cq, resp, true);
    if (s.err() != EKEYEXPIRED) {
      *cacheable = s.ok();
      return s;
    }
    sessions_->Lost(HomeOf(owner));
  }
  return plain();
}

bool FuseFs::HasPendingSize(Ino ino) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(ino);
  return it != pending_.end() && (it->second.end > 0 || it->second.blocks_delta != 0);
}

Status FuseFs::FillAttr(Entry* e, bool* cacheable) {
  if (e->has_attr) return Status::Ok();
  CachingInoReq cq{.client = sessions_ ? sessions_->client_id() : 0, .ino = e->ino};
  bool attr_cacheable = false;
  if (Status s = CachingCall(Op::kGetattrCaching, cq, e->ino, &e->attr, &attr_cacheable,
                             [&] { return client_->Getattr(e->ino, &e->attr); });
      !s.ok())
    return s;
  *cacheable = *cacheable && attr_cacheable;
  e->has_attr = 1;
  return Status::Ok();
}

fuse_entry_param FuseFs::EntryParam(const Entry& e) {
  fuse_entry_param p{};
  Attr a = e.attr;
  OverlayPendingWrites(&a);
  NoteKernelView(a);
  p.ino = ToFuse(e.ino);
  p.attr = ToStat(a);
  p.attr_timeout = AttrTimeout();
  p.entry_timeout = opts_.entry_timeout;
  return p;
}

void FuseFs::ReplyEntry(fuse_req_t req, const Entry& e) {
  fuse_entry_param p = EntryParam(e);
  fuse_reply_entry(req, &p);
}

void FuseFs::Lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  LookupReq q{ToServer(parent), name};
  CachingLookupReq cq{
      .client = sessions_ ? sessions_->client_id() : 0, .parent = q.parent, .name = name};
  uint64_t token = cache_ ? cache_->BeginFill() : 0;
  Entry e;
  bool cacheable = false;
  Status s = CachingCall(Op::kLookupCaching, cq, q.parent, &e, &cacheable,
                         [&] { return client_->Lookup(q, &e); });
  if (s.ok()) s = FillAttr(&e, &cacheable);
  if (!s.ok()) return ReplyStatus(req, s);
  fuse_entry_param p = EntryParam(e);
  if (cacheable && !HasPendingSize(e.ino)) cache_->FillEntry(token, parent, name, p.ino, p.attr);
  fuse_reply_entry(req, &p);
}

void FuseFs::Getattr(fuse_req_t req, fuse_ino_t ino) {
  CachingInoReq cq{.client = sessions_ ? sessions_->client_id() : 0, .ino = ToServer(ino)};
  uint64_t token = cache_ ? cache_->BeginFill() : 0;
  Attr a;
  bool cacheable = false;
  if (Status s = CachingCall(Op::kGetattrCaching, cq, cq.ino, &a, &cacheable,
                             [&] { return client_->Getattr(cq.ino, &a); });
      !s.ok())
    return ReplyStatus(req, s);
  if (cacheable && !HasPendingSize(a.ino)) cache_->FillAttr(token, ino, ToStat(a));
  ReplyAttr(req, a);
}

Status FuseFs::CommitPending(Ino ino, bool sync) {
  WriteState w;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(ino);
    if (it == pending_.end()) return Status::Ok();
    w = std::move(it->second);
    pending_.erase(it);
  }
  auto restore = [&] {  // keep the state for the next flush on failure
    std::lock_guard lock(mu_);
    WriteState& cur = pending_[ino];
    cur.end = std::max(cur.end, w.end);
    cur.blocks_delta += w.blocks_delta;
    cur.modified |= w.modified;
    cur.read |= w.read;
  };
  if (sync) {
    // Any server may hold chunks written through other handles or before a
    // remount, so all of them sync this inode's chunks.
    if (Status s = client_->SyncChunks(ino); !s.ok()) {
      restore();
      return s;
    }
  }
  if (!w.modified && !w.read && w.end == 0 && w.blocks_delta == 0) return Status::Ok();
  CommitWriteReq q{.ino = ino, .min_size = w.end, .blocks_delta = w.blocks_delta, .flags = 0};
  if (w.modified) q.flags |= kCommitTouchMtime;
  if (w.read) q.flags |= kCommitTouchAtime;
  Attr a;
  if (Status s = client_->Meta(Op::kCommitWrite, ino, q, &a, false); !s.ok()) {
    restore();
    return s;
  }
  return Status::Ok();
}

void FuseFs::Setattr(fuse_req_t req, fuse_ino_t fino, struct stat* st, int to_set) {
  Ino ino = ToServer(fino);
  if (to_set & FUSE_SET_ATTR_SIZE) {
    // Earlier writes must be accounted before the size is cut.
    if (Status s = CommitPending(ino, false); !s.ok()) return ReplyStatus(req, s);
  }
  SetattrReq q{.ino = ino};
  if (to_set & FUSE_SET_ATTR_MODE) q.valid |= kSetMode, q.mode = st->st_mode;
  if (to_set & FUSE_SET_ATTR_UID) q.valid |= kSetUid, q.uid = st->st_uid;
  if (to_set & FUSE_SET_ATTR_GID) q.valid |= kSetGid, q.gid = st->st_gid;
  if (to_set & FUSE_SET_ATTR_SIZE) q.valid |= kSetSize, q.size = static_cast<uint64_t>(st->st_size);
  if (to_set & FUSE_SET_ATTR_ATIME_NOW)
    q.valid |= kSetAtimeNow;
  else if (to_set & FUSE_SET_ATTR_ATIME)
    q.valid |= kSetAtime, q.atime_ns = st->st_atim.tv_sec * 1000000000LL + st->st_atim.tv_nsec;
  if (to_set & FUSE_SET_ATTR_MTIME_NOW)
    q.valid |= kSetMtimeNow;
  else if (to_set & FUSE_SET_ATTR_MTIME)
    q.valid |= kSetMtime, q.mtime_ns = st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
  Attr a;
  if (Status s = client_->Meta(Op::kSetattr, ino, q, &a, false); !s.ok())
    return ReplyStatus(req, s);
  if (to_set & FUSE_SET_ATTR_SIZE) {
    std::lock_guard lock(mu_);
    if (auto it = pending_.find(ino); it != pending_.end()) it->second.end = 0;
  }
  ReplyAttr(req, a);
}

void FuseFs::Readlink(fuse_req_t req, fuse_ino_t ino) {
  InoReq q{ToServer(ino)};
  BytesResp r;
  if (Status s = client_->Meta(Op::kReadlink, q.ino, q, &r, true); !s.ok())
    return ReplyStatus(req, s);
  fuse_reply_readlink(req, r.data.c_str());
}

void FuseFs::MakeNode(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev,
                      const char* link, fuse_file_info* fi) {
  const fuse_ctx* ctx = fuse_req_ctx(req);
  MknodReq q{.parent = ToServer(parent),
             .name = name,
             .mode = mode,
             .rdev = rdev,
             .uid = ctx->uid,
             .gid = ctx->gid,
             .symlink = link ? link : ""};
  Entry e;
  // Not idempotent: a retry after a lost reply would see EEXIST.
  Status s = client_->Meta(Op::kMknod, q.parent, q, &e, false);
  bool cacheable = false;  // answers to changes are not cached (their own invalidations race them)
  if (s.ok()) s = FillAttr(&e, &cacheable);
  if (!s.ok()) return ReplyStatus(req, s);
  if (!fi) return ReplyEntry(req, e);

  {
    std::lock_guard lock(mu_);
    open_[e.ino].handles++;
  }
  fuse_entry_param p = EntryParam(e);
  fi->keep_cache = 0;
  fuse_reply_create(req, &p, fi);
}

void FuseFs::Mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev) {
  MakeNode(req, parent, name, mode, rdev, nullptr, nullptr);
}
void FuseFs::Mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  MakeNode(req, parent, name, (mode & 07777) | S_IFDIR, 0, nullptr, nullptr);
}
void FuseFs::Symlink(fuse_req_t req, const char* link, fuse_ino_t parent, const char* name) {
  MakeNode(req, parent, name, S_IFLNK | 0777, 0, link, nullptr);
}
void FuseFs::Create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
                    fuse_file_info* fi) {
  MakeNode(req, parent, name, (mode & 07777) | S_IFREG, 0, nullptr, fi);
}

bool FuseFs::AnyOpen() {
  std::lock_guard lock(mu_);
  return !open_.empty();
}

void FuseFs::SettleOrphan(const UnlinkResp& r) {
  if (!r.orphaned) return;
  {
    std::lock_guard lock(mu_);
    auto it = open_.find(r.ino);
    if (it != open_.end()) {
      it->second.orphaned = true;  // dropped at its last release
      return;
    }
  }
  InoReq q{r.ino};
  Empty e;
  if (Status s = client_->Meta(Op::kDropOrphan, r.ino, q, &e, true); !s.ok())
    spdlog::warn("cannot drop unlinked inode {:#x}: {}", r.ino, s.ToString());
}

void FuseFs::RemoveEntry(fuse_req_t req, fuse_ino_t parent, const char* name, uint8_t flags) {
  // While this mount has files open, the server keeps an inode that loses its
  // last link; SettleOrphan drops it at once unless it is one of ours.
  UnlinkReq q{.parent = ToServer(parent),
              .name = name,
              .flags = static_cast<uint8_t>(flags | (AnyOpen() ? kUnlinkKeepOrphan : 0))};
  UnlinkResp r;
  if (Status s = client_->Meta(Op::kUnlink, q.parent, q, &r, false); !s.ok())
    return ReplyStatus(req, s);
  SettleOrphan(r);
  fuse_reply_err(req, 0);
}

void FuseFs::Unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  RemoveEntry(req, parent, name, 0);
}
void FuseFs::Rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  RemoveEntry(req, parent, name, kUnlinkDir);
}

void FuseFs::Rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
                    const char* newname, unsigned int flags) {
  RenameReq q{.src_parent = ToServer(parent),
              .src_name = name,
              .dst_parent = ToServer(newparent),
              .dst_name = newname,
              .flags = flags | (AnyOpen() ? kRenameKeepOrphan : 0)};
  UnlinkResp r;
  if (Status s = client_->Meta(Op::kRename, q.src_parent, q, &r, false); !s.ok())
    return ReplyStatus(req, s);
  SettleOrphan(r);
  fuse_reply_err(req, 0);
}

void FuseFs::Link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname) {
  LinkReq q{.ino = ToServer(ino), .new_parent = ToServer(newparent), .new_name = newname};
  Entry e;
  Status s = client_->Meta(Op::kLink, q.new_parent, q, &e, false);
  bool cacheable = false;
  if (s.ok()) s = FillAttr(&e, &cacheable);
  if (!s.ok()) return ReplyStatus(req, s);
  ReplyEntry(req, e);
}

void FuseFs::NoteKernelView(const Attr& a) {
  std::lock_guard lock(mu_);
  if (kernel_view_.size() > kKernelViewLimit) kernel_view_.clear();
  kernel_view_[a.ino] = {a.size, a.mtime_ns};
}

void FuseFs::Open(fuse_req_t req, fuse_ino_t fino, fuse_file_info* fi) {
  Ino ino = ToServer(fino);
  Attr a;
  if (fi->flags & O_TRUNC) {
    // Atomic O_TRUNC: the kernel leaves the truncation to us.
    if (Status s = CommitPending(ino, false); !s.ok()) return ReplyStatus(req, s);
    SetattrReq q{.ino = ino, .valid = kSetSize, .size = 0};
    if (Status s = client_->Meta(Op::kSetattr, ino, q, &a, false); !s.ok())
      return ReplyStatus(req, s);
  } else {
    // Close-to-open: fetch fresh attributes.
    if (Status s = client_->Getattr(ino, &a); !s.ok()) return ReplyStatus(req, s);
  }
  if (S_ISDIR(a.mode)) return (void)fuse_reply_err(req, EISDIR);
  // If the kernel may hold other attributes than these (another client
  // changed the file, or we do not remember what it was told), drop them; the
  // page cache is dropped on every open because keep_cache is off.
  bool stale;
  {
    std::lock_guard lock(mu_);
    auto it = kernel_view_.find(ino);
    stale = it == kernel_view_.end() || it->second != std::make_pair(a.size, a.mtime_ns);
    if (auto p = pending_.find(ino); p != pending_.end() && (fi->flags & O_TRUNC))
      p->second.end = 0;
    open_[ino].handles++;
  }
  if (stale && session_) fuse_lowlevel_notify_inval_inode(session_, fino, -1, 0);
  fi->keep_cache = 0;
  fuse_reply_open(req, fi);
}

void FuseFs::Read(fuse_req_t req, fuse_ino_t fino, size_t size, off_t off, fuse_file_info*) {
  Ino ino = ToServer(fino);
  // Every byte is written by the read: no need to zero the buffer first.
  auto buf = std::make_unique_for_overwrite<uint8_t[]>(size);
  if (Status s = client_->Read(ino, static_cast<uint64_t>(off), std::span(buf.get(), size));
      !s.ok())
    return ReplyStatus(req, s);
  {
    std::lock_guard lock(mu_);
    pending_[ino].read = true;
  }
  fuse_reply_buf(req, reinterpret_cast<const char*>(buf.get()), size);
}

void FuseFs::Write(fuse_req_t req, fuse_ino_t fino, const char* buf, size_t size, off_t off,
                   fuse_file_info*) {
  Ino ino = ToServer(fino);
  int64_t blocks_delta = 0;
  uint64_t reached = 0;
  Status s = client_->Write(ino, static_cast<uint64_t>(off), std::string_view(buf, size),
                            &blocks_delta, &reached);
  {
    std::lock_guard lock(mu_);
    WriteState& w = pending_[ino];
    w.blocks_delta += blocks_delta;
    w.modified = true;
    // Even a failed write counts up to where it may have stored bytes, so
    // that no stored byte lies past the size the next commit sets.
    w.end = std::max(w.end, reached);
  }
  // The size and blocks this mount answers now differ from the server's.
  if (cache_) cache_->DropAttr(fino);
  if (!s.ok()) return ReplyStatus(req, s);
  fuse_reply_write(req, size);
}

void FuseFs::Flush(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  ReplyStatus(req, CommitPending(ToServer(ino), false));
}

void FuseFs::Fsync(fuse_req_t req, fuse_ino_t ino, int, fuse_file_info*) {
  ReplyStatus(req, CommitPending(ToServer(ino), true));
}

void FuseFs::Release(fuse_req_t req, fuse_ino_t fino, fuse_file_info*) {
  Ino ino = ToServer(fino);
  Status s = CommitPending(ino, false);
  bool drop = false;
  {
    std::lock_guard lock(mu_);
    auto it = open_.find(ino);
    if (it != open_.end() && --it->second.handles <= 0) {
      drop = it->second.orphaned;
      open_.erase(it);
    }
  }
  if (!s.ok() && !drop) RetryLater(ino, s);
  if (drop) {
    InoReq q{ino};
    Empty e;
    if (Status d = client_->Meta(Op::kDropOrphan, ino, q, &e, true); !d.ok())
      spdlog::warn("cannot drop unlinked inode {:#x}: {}", ino, d.ToString());
  }
  ReplyStatus(req, s);
}

void FuseFs::RetryLater(Ino ino, const Status& why) {
  spdlog::warn("size and times of inode {:#x} not committed at its last close ({}); retrying", ino,
               why.ToString());
  std::lock_guard lock(mu_);
  if (stopping_) return;
  unflushed_.insert(ino);
  if (!retry_thread_.joinable()) retry_thread_ = std::thread([this] { RetryUnflushedLoop(); });
  unflushed_cv_.notify_one();
}

void FuseFs::RetryUnflushedLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    // Idle until a commit failed; then retry every half second (the server
    // that just refused it is not back at once).
    unflushed_cv_.wait(lock, [&] { return stopping_ || !unflushed_.empty(); });
    unflushed_cv_.wait_for(lock, std::chrono::milliseconds(500), [&] { return stopping_; });
    if (stopping_) return;
    std::set<Ino> todo = std::move(unflushed_);
    unflushed_.clear();
    lock.unlock();
    std::set<Ino> failed;
    for (Ino ino : todo) {
      if (Status s = CommitPending(ino, false); s.ok())
        spdlog::info("size and times of inode {:#x} committed", ino);
      else
        failed.insert(ino);
    }
    lock.lock();
    unflushed_.merge(failed);
  }
}

void FuseFs::FinishUnflushed() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  unflushed_cv_.notify_one();
  if (retry_thread_.joinable()) retry_thread_.join();
  std::set<Ino> left;
  {
    std::lock_guard lock(mu_);
    left.swap(unflushed_);
  }
  for (Ino ino : left) {
    if (Status s = CommitPending(ino, false); !s.ok())
      spdlog::error("size and times of inode {:#x} could not be committed: {}", ino, s.ToString());
  }
}

void FuseFs::DoReaddir(fuse_req_t req, fuse_ino_t fino, size_t size, off_t off, bool plus) {
  Ino ino = ToServer(fino);
  std::vector<char> buf(size);
  size_t used = 0;
  // Offsets: "." is 1, ".." is 2, an entry with cookie c is c + 1 (c >= 2).
  auto add = [&](const char* name, const struct stat& st, off_t next, const fuse_entry_param* e) {
    size_t n = plus ? fuse_add_direntry_plus(req, buf.data() + used, size - used, name, e, next)
                    : fuse_add_direntry(req, buf.data() + used, size - used, name, &st, next);
    if (n > size - used) return false;
    used += n;
    return true;
  };
  fuse_entry_param dot{};
  dot.attr.st_mode = S_IFDIR;
  if (off < 1) {
    dot.attr.st_ino = fino;
    if (!add(".", dot.attr, 1, &dot)) {
      fuse_reply_buf(req, buf.data(), used);
      return;
    }
  }
  if (off < 2) {
    dot.attr.st_ino = FUSE_ROOT_ID;  // the parent is not known here; any nonzero value works
    if (!add("..", dot.attr, 2, &dot)) {
      fuse_reply_buf(req, buf.data(), used);
      return;
    }
  }
  uint64_t cookie = off < 2 ? 2 : static_cast<uint64_t>(off);
  for (;;) {
    ReaddirReq q{.dir = ino,
                 .cookie = cookie,
                 .max_entries = static_cast<uint32_t>(std::max<size_t>(size / 48, 16)),
                 .plus = static_cast<uint8_t>(plus)};
    ReaddirResp r;
    if (Status s = client_->Meta(Op::kReaddir, ino, q, &r, true); !s.ok()) {
      if (used > 0) break;  // return what we have; the next call reports the error
      return ReplyStatus(req, s);
    }
    for (DirEntry& d : r.entries) {
      fuse_entry_param e{};
      e.attr.st_mode = d.entry.mode;
      e.attr.st_ino = ToFuse(d.entry.ino);
      if (plus && d.entry.has_attr) e = EntryParam(d.entry);
      if (!add(d.name.c_str(), e.attr, static_cast<off_t>(d.next_cookie), &e)) {
        fuse_reply_buf(req, buf.data(), used);
        return;
      }
      cookie = d.next_cookie;
    }
    if (r.eof || r.entries.empty()) break;
  }
  fuse_reply_buf(req, buf.data(), used);
}

void FuseFs::Statfs(fuse_req_t req, fuse_ino_t) {
  Result<StatfsResp> r = client_->Statfs();
  if (!r.ok()) return ReplyStatus(req, r.status());
  struct statvfs sv {};
  sv.f_bsize = sv.f_frsize = 4096;
  sv.f_blocks = r->bytes_total / 4096;
  sv.f_bfree = r->bytes_free / 4096;
  sv.f_bavail = r->bytes_avail / 4096;
  sv.f_files = r->inodes_total;
  sv.f_ffree = sv.f_favail = r->inodes_free;
  sv.f_namemax = 255;
  fuse_reply_statfs(req, &sv);
}

void FuseFs::Setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value,
                      size_t size, int flags) {
  XattrReq q{.ino = ToServer(ino),
             .name = name,
             .value = std::string(value, size),
             .flags = static_cast<uint32_t>(flags)};
  Empty r;
  ReplyStatus(req, client_->Meta(Op::kSetxattr, q.ino, q, &r, true));
}

void FuseFs::Getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  XattrReq q{.ino = ToServer(ino), .name = name};
  BytesResp r;
  if (Status s = client_->Meta(Op::kGetxattr, q.ino, q, &r, true); !s.ok())
    return ReplyStatus(req, s);
  if (size == 0) return (void)fuse_reply_xattr(req, r.data.size());
  if (r.data.size() > size) return (void)fuse_reply_err(req, ERANGE);
  fuse_reply_buf(req, r.data.data(), r.data.size());
}

void FuseFs::Listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  InoReq q{ToServer(ino)};
  BytesResp r;
  if (Status s = client_->Meta(Op::kListxattr, q.ino, q, &r, true); !s.ok())
    return ReplyStatus(req, s);
  if (r.data.size() > kMaxXattrList) return (void)fuse_reply_err(req, E2BIG);
  if (size == 0) return (void)fuse_reply_xattr(req, r.data.size());
  if (r.data.size() > size) return (void)fuse_reply_err(req, ERANGE);
  fuse_reply_buf(req, r.data.data(), r.data.size());
}

void FuseFs::Removexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  XattrReq q{.ino = ToServer(ino), .name = name};
  Empty r;
  ReplyStatus(req, client_->Meta(Op::kRemovexattr, q.ino, q, &r, false));
}

// C entry points: each forwards to the FuseFs in the request's userdata.
struct FuseTrampolines {
  static void Init(void*, fuse_conn_info* conn) {
    conn->max_write = 1 << 20;
    if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA) conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
    if (conn->capable & FUSE_CAP_READDIRPLUS) conn->want |= FUSE_CAP_READDIRPLUS;
    conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
  }
  static void Lookup(fuse_req_t r, fuse_ino_t p, const char* n) { Self(r)->Lookup(r, p, n); }
  static void Forget(fuse_req_t r, fuse_ino_t, uint64_t) { fuse_reply_none(r); }
  static void ForgetMulti(fuse_req_t r, size_t, fuse_forget_data*) { fuse_reply_none(r); }
  static void Getattr(fuse_req_t r, fuse_ino_t i, fuse_file_info*) { Self(r)->Getattr(r, i); }
  static void Setattr(fuse_req_t r, fuse_ino_t i, struct stat* a, int s, fuse_file_info*) {
    Self(r)->Setattr(r, i, a, s);
  }
  static void Readlink(fuse_req_t r, fuse_ino_t i) { Self(r)->Readlink(r, i); }
  static void Mknod(fuse_req_t r, fuse_ino_t p, const char* n, mode_t m, dev_t d) {
    Self(r)->Mknod(r, p, n, m, d);
  }
  static void Mkdir(fuse_req_t r, fuse_ino_t p, const char* n, mode_t m) {
    Self(r)->Mkdir(r, p, n, m);
  }
  static void Unlink(fuse_req_t r, fuse_ino_t p, const char* n) { Self(r)->Unlink(r, p, n); }
  static void Rmdir(fuse_req_t r, fuse_ino_t p, const char* n) { Self(r)->Rmdir(r, p, n); }
  static void Symlink(fuse_req_t r, const char* l, fuse_ino_t p, const char* n) {
    Self(r)->Symlink(r, l, p, n);
  }
  static void Rename(fuse_req_t r, fuse_ino_t p, const char* n, fuse_ino_t np, const char* nn,
                     unsigned int f) {
    Self(r)->Rename(r, p, n, np, nn, f);
  }
  static void Link(fuse_req_t r, fuse_ino_t i, fuse_ino_t np, const char* nn) {
    Self(r)->Link(r, i, np, nn);
  }
  static void Open(fuse_req_t r, fuse_ino_t i, fuse_file_info* fi) { Self(r)->Open(r, i, fi); }
  static void Read(fuse_req_t r, fuse_ino_t i, size_t s, off_t o, fuse_file_info* fi) {
    Self(r)->Read(r, i, s, o, fi);
  }
  static void Write(fuse_req_t r, fuse_ino_t i, const char* b, size_t s, off_t o,
                    fuse_file_info* fi) {
    Self(r)->Write(r, i, b, s, o, fi);
  }
  static void Flush(fuse_req_t r, fuse_ino_t i, fuse_file_info* fi) { Self(r)->Flush(r, i, fi); }
  static void Release(fuse_req_t r, fuse_ino_t i, fuse_file_info* fi) {
    Self(r)->Release(r, i, fi);
  }
  static void Fsync(fuse_req_t r, fuse_ino_t i, int d, fuse_file_info* fi) {
    Self(r)->Fsync(r, i, d, fi);
  }
  static void Opendir(fuse_req_t r, fuse_ino_t, fuse_file_info* fi) { fuse_reply_open(r, fi); }
  static void Readdir(fuse_req_t r, fuse_ino_t i, size_t s, off_t o, fuse_file_info*) {
    Self(r)->DoReaddir(r, i, s, o, false);
  }
  static void Readdirplus(fuse_req_t r, fuse_ino_t i, size_t s, off_t o, fuse_file_info*) {
    Self(r)->DoReaddir(r, i, s, o, true);
  }
  static void Releasedir(fuse_req_t r, fuse_ino_t, fuse_file_info*) { fuse_reply_err(r, 0); }
  // Namespace operations are durable when acknowledged: nothing to do.
  static void Fsyncdir(fuse_req_t r, fuse_ino_t, int, fuse_file_info*) { fuse_reply_err(r, 0); }
  static void Statfs(fuse_req_t r, fuse_ino_t i) { Self(r)->Statfs(r, i); }
  static void Setxattr(fuse_req_t r, fuse_ino_t i, const char* n, const char* v, size_t s, int f) {
    Self(r)->Setxattr(r, i, n, v, s, f);
  }
  static void Getxattr(fuse_req_t r, fuse_ino_t i, const char* n, size_t s) {
    Self(r)->Getxattr(r, i, n, s);
  }
  static void Listxattr(fuse_req_t r, fuse_ino_t i, size_t s) { Self(r)->Listxattr(r, i, s); }
  static void Removexattr(fuse_req_t r, fuse_ino_t i, const char* n) {
    Self(r)->Removexattr(r, i, n);
  }
  static void Create(fuse_req_t r, fuse_ino_t p, const char* n, mode_t m, fuse_file_info* fi) {
    Self(r)->Create(r, p, n, m, fi);
  }
};

const fuse_lowlevel_ops* FuseFs::Ops() {
  static const fuse_lowlevel_ops ops = [] {
    fuse_lowlevel_ops o{};
    o.init = FuseTrampolines::Init;
    o.lookup = FuseTrampolines::Lookup;
    o.forget = FuseTrampolines::Forget;
    o.forget_multi = FuseTrampolines::ForgetMulti;
    o.getattr = FuseTrampolines::Getattr;
    o.setattr = FuseTrampolines::Setattr;
    o.readlink = FuseTrampolines::Readlink;
    o.mknod = FuseTrampolines::Mknod;
    o.mkdir = FuseTrampolines::Mkdir;
    o.unlink = FuseTrampolines::Unlink;
    o.rmdir = FuseTrampolines::Rmdir;
    o.symlink = FuseTrampolines::Symlink;
    o.rename = FuseTrampolines::Rename;
    o.link = FuseTrampolines::Link;
    o.open = FuseTrampolines::Open;
    o.read = FuseTrampolines::Read;
    o.write = FuseTrampolines::Write;
    o.flush = FuseTrampolines::Flush;
    o.release = FuseTrampolines::Release;
    o.fsync = FuseTrampolines::Fsync;
    o.opendir = FuseTrampolines::Opendir;
    o.readdir = FuseTrampolines::Readdir;
    o.readdirplus = FuseTrampolines::Readdirplus;
    o.releasedir = FuseTrampolines::Releasedir;
    o.fsyncdir = FuseTrampolines::Fsyncdir;
    o.statfs = FuseTrampolines::Statfs;
    o.setxattr = FuseTrampolines::Setxattr;
    o.getxattr = FuseTrampolines::Getxattr;
    o.listxattr = FuseTrampolines::Listxattr;
    o.removexattr = FuseTrampolines::Removexattr;
    o.create = FuseTrampolines::Create;
    return o;
  }();
  return &ops;
}

}  // namespace sealfs
