#include "namespace_service.h"

#include <fmt/format.h>
#include <linux/fs.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <ctime>

namespace sealfs {
namespace {

constexpr size_t kNameMax = 255;
constexpr size_t kSymlinkMax = 4095;
constexpr size_t kXattrNameMax = 255;
constexpr size_t kXattrValueMax = 64 << 10;
constexpr uint32_t kReaddirMaxEntries = 1024;
constexpr int kMaxDepth = 4096;
constexpr int64_t kRelatimeWindowNs = int64_t{24} * 3600 * 1000000000;

Status CheckName(std::string_view name) {
  if (name.size() > kNameMax) return Status::Error(ENAMETOOLONG);
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos ||
      name.find('\0') != std::string_view::npos)
    return Status::Error(EINVAL, "invalid file name");
  return Status::Ok();
}

bool IsDir(uint32_t mode) { return S_ISDIR(mode); }

void Touch(Attr* a, int64_t now) { a->mtime_ns = a->ctime_ns = now; }

}  // namespace

int64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

NamespaceService::NamespaceService(MetaStore* meta, StripeLocks* locks, IntentRunner* intents,
                                   ServerId self)
    : meta_(meta), locks_(locks), intents_(intents), self_(self) {}

Status NamespaceService::EnsureRoot(Ino root) {
  StripeLocks::Guard g(locks_, {root});
  Result<InodeRecord> existing = meta_->GetInode(root);
  if (existing.ok()) return Status::Ok();
  if (existing.err() != ENOENT) return existing.status();
  InodeRecord rec;
  int64_t now = NowNs();
  rec.attr = Attr{.ino = root,
                  .mode = S_IFDIR | 0755,
                  .nlink = 2,
                  .atime_ns = now,
                  .mtime_ns = now,
                  .ctime_ns = now,
                  .parent = root};
  MetaStore::Batch b;
  b.PutInode(rec);
  meta_->AdjustInodeCount(1);
  spdlog::info("created the root directory {:#x}", root);
  return meta_->Commit(&b);
}

Status NamespaceService::CheckLocal(Ino ino) const {
  if (HomeOf(ino) != self_)
    return Status::Error(
        EREMOTE, fmt::format("inode {:#x} belongs to server {}, not {}", ino, HomeOf(ino), self_));
  return Status::Ok();
}

Result<InodeRecord> NamespaceService::GetDir(Ino ino) const {
  if (Status s = CheckLocal(ino); !s.ok()) return s;
  Result<InodeRecord> rec = meta_->GetInode(ino);
  if (!rec.ok()) return rec;
  if (!IsDir(rec->attr.mode)) return Status::Error(ENOTDIR);
  return rec;
}

Entry NamespaceService::MakeEntry(const InodeRecord& rec) const {
  return Entry{.ino = rec.attr.ino, .mode = rec.attr.mode, .has_attr = 1, .attr = rec.attr};
}

Status NamespaceService::Lookup(const LookupReq& req, Entry* out) const {
  if (Status s = CheckName(req.name); !s.ok()) return s;
  Result<DentryValue> d = meta_->GetDentry(req.parent, req.name);
  if (!d.ok()) {
    // Only a miss needs the parent, to tell ENOTDIR (or EREMOTE) from ENOENT.
    if (Result<InodeRecord> dir = GetDir(req.parent); !dir.ok()) return dir.status();
    return d.status();
  }
  *out = Entry{.ino = d->ino, .mode = d->mode};
  if (HomeOf(d->ino) == self_) {
    Result<InodeRecord> rec = meta_->GetInode(d->ino);
    if (!rec.ok()) {
      spdlog::error("entry {:#x}/{} points at missing inode {:#x}", req.parent, req.name, d->ino);
      return Status::Error(EIO, "dangling entry");
    }
    *out = MakeEntry(*rec);
  }
  return Status::Ok();
}

Status NamespaceService::Getattr(Ino ino, Attr* out) const {
  if (Status s = CheckLocal(ino); !s.ok()) return s;
  Result<InodeRecord> rec = meta_->GetInode(ino);
  if (!rec.ok()) return rec.status();
  *out = rec->attr;
  return Status::Ok();
}

Status NamespaceService::CommitWithIntents(MetaStore::Batch* b,
                                           const std::vector<IntentRecord>& intents) {
  for (const IntentRecord& i : intents) b->PutIntent(i);
  Status s = meta_->Commit(b);
  if (s.ok() && !intents.empty()) intents_->Kick();
  return s;
}

Status NamespaceService::Setattr(const SetattrReq& req, Attr* out) {
  if (Status s = CheckLocal(req.ino); !s.ok()) return s;
  std::optional<IntentRecord> trunc;
  {
    StripeLocks::Guard g(locks_, {req.ino});
    Result<InodeRecord> rec = meta_->GetInode(req.ino);
    if (!rec.ok()) return rec.status();
    Attr& a = rec->attr;
    int64_t now = NowNs();

    if (req.valid & kSetMode) a.mode = (a.mode & S_IFMT) | (req.mode & 07777);
    if (req.valid & kSetUid) a.uid = req.uid;
    if (req.valid & kSetGid) a.gid = req.gid;
    if (req.valid & kSetSize) {
      if (IsDir(a.mode)) return Status::Error(EISDIR);
      if (!S_ISREG(a.mode)) return Status::Error(EINVAL);
      if (req.size < a.size) {
        Result<uint64_t> id = meta_->AllocateIntentId();
        if (!id.ok()) return id.status();
        trunc = IntentRecord{.id = *id,
                             .kind = static_cast<uint16_t>(IntentKind::kTruncData),
                             .ino = req.ino,
                             .size = req.size};
      }
      if (req.size != a.size) Touch(&a, now);
      a.size = req.size;
    }
    if (req.valid & kSetAtimeNow)
      a.atime_ns = now;
    else if (req.valid & kSetAtime)
      a.atime_ns = req.atime_ns;
    if (req.valid & kSetMtimeNow)
      a.mtime_ns = now;
    else if (req.valid & kSetMtime)
      a.mtime_ns = req.mtime_ns;
    a.ctime_ns = now;

    MetaStore::Batch b;
    b.PutInode(*rec);
    if (trunc) b.PutIntent(*trunc);
    if (Status s = meta_->Commit(&b); !s.ok()) return s;
    *out = a;
  }
  if (trunc) {
    // Bytes past the new end must be gone before the caller can extend the
    // file again; a failure leaves the intent to the background runner.
    if (Status s = intents_->RunNow(*trunc); !s.ok())
      spdlog::warn("truncate of {:#x} not finished on every server yet: {}", req.ino, s.ToString());
    return Getattr(req.ino, out);
  }
  return Status::Ok();
}

Status NamespaceService::Mknod(const MknodReq& req, Entry* out) {
  if (Status s = CheckName(req.name); !s.ok()) return s;
  uint32_t type = req.mode & S_IFMT;
  if (type != S_IFREG && type != S_IFDIR && type != S_IFLNK && type != S_IFIFO && type != S_IFCHR &&
      type != S_IFBLK && type != S_IFSOCK)
    return Status::Error(EINVAL, "unknown file type");
  if (type == S_IFLNK && (req.symlink.empty() || req.symlink.size() > kSymlinkMax))
    return Status::Error(req.symlink.empty() ? ENOENT : ENAMETOOLONG);

  StripeLocks::Guard g(locks_, {req.parent});
  Result<InodeRecord> parent = GetDir(req.parent);
  if (!parent.ok()) return parent.status();
  if (parent->attr.nlink == 0) return Status::Error(ENOENT, "directory was removed");
  Result<DentryValue> existing = meta_->GetDentry(req.parent, req.name);
  if (existing.ok()) return Status::Error(EEXIST);
  if (existing.err() != ENOENT) return existing.status();
  Result<Ino> ino = meta_->AllocateIno();
  if (!ino.ok()) return ino.status();

  int64_t now = NowNs();
  InodeRecord rec;
  Attr& a = rec.attr;
  a.ino = *ino;
  a.mode = req.mode;
  a.uid = req.uid;
  a.gid = req.gid;
  if (parent->attr.mode & S_ISGID) {  // BSD group semantics of set-gid directories
    a.gid = parent->attr.gid;
    if (type == S_IFDIR) a.mode |= S_ISGID;
  }
  a.nlink = type == S_IFDIR ? 2 : 1;
  a.rdev = req.rdev;
  a.atime_ns = a.mtime_ns = a.ctime_ns = now;
  if (type == S_IFDIR) a.parent = req.parent;
  if (type == S_IFLNK) {
    rec.symlink = req.symlink;
    a.size = req.symlink.size();
  }

  DentryValue d{.ino = *ino, .mode = a.mode, .cookie = parent->next_cookie++};
  Touch(&parent->attr, now);
  if (type == S_IFDIR) parent->attr.nlink++;
  MetaStore::Batch b;
  b.PutInode(rec);
  b.PutInode(*parent);
  b.PutDentry(req.parent, req.name, d);
  if (Status s = meta_->Commit(&b); !s.ok()) return s;
  meta_->AdjustInodeCount(1);
  *out = MakeEntry(rec);
  return Status::Ok();
}

void NamespaceService::DropLink(InodeRecord* rec, bool keep_orphan, int64_t now,
                                MetaStore::Batch* b, std::vector<IntentRecord>* intents) {
  Attr& a = rec->attr;
  if (a.nlink > 0) a.nlink--;
  a.ctime_ns = now;
  if (a.nlink > 0 || keep_orphan) {
    b->PutInode(*rec);
    if (a.nlink == 0) b->PutOrphan(a.ino);
    return;
  }
  b->DeleteInode(a.ino);
  meta_->DeleteAllXattrs(a.ino, b);
  meta_->AdjustInodeCount(-1);
  if (S_ISREG(a.mode) && (a.size > 0 || a.blocks > 0)) {
    Result<uint64_t> id = meta_->AllocateIntentId();
    if (id.ok())
      intents->push_back(IntentRecord{
          .id = *id, .kind = static_cast<uint16_t>(IntentKind::kDropData), .ino = a.ino});
    else
      spdlog::error("cannot record data removal of {:#x}: {}; sealfs-fsck will find its chunks",
                    a.ino, id.status().ToString());
  }
}

Status NamespaceService::Unlink(const UnlinkReq& req, UnlinkResp* out) {
  if (Status s = CheckName(req.name); !s.ok()) return s;
  const bool rmdir = req.flags & kUnlinkDir;
  for (;;) {
    Result<DentryValue> peek = meta_->GetDentry(req.parent, req.name);
    if (!peek.ok()) {
      if (Result<InodeRecord> dir = GetDir(req.parent); !dir.ok()) return dir.status();
      return peek.status();
    }
    StripeLocks::Guard g(locks_, {req.parent, peek->ino});
    Result<InodeRecord> parent = GetDir(req.parent);
    if (!parent.ok()) return parent.status();
    Result<DentryValue> d = meta_->GetDentry(req.parent, req.name);
    if (!d.ok()) return d.status();
    if (d->ino != peek->ino) continue;  // replaced while we were not holding its lock
    if (Status s = CheckLocal(d->ino); !s.ok()) return s;
    Result<InodeRecord> child = meta_->GetInode(d->ino);
    if (!child.ok()) return child.status();

    int64_t now = NowNs();
    MetaStore::Batch b;
    std::vector<IntentRecord> intents;
    if (rmdir) {
      if (!IsDir(child->attr.mode)) return Status::Error(ENOTDIR);
      if (!meta_->DirectoryEmpty(d->ino)) return Status::Error(ENOTEMPTY);
      b.DeleteInode(d->ino);
      meta_->DeleteAllXattrs(d->ino, &b);
      meta_->AdjustInodeCount(-1);
      parent->attr.nlink--;
    } else {
      if (IsDir(child->attr.mode)) return Status::Error(EISDIR);
      DropLink(&*child, req.flags & kUnlinkKeepOrphan, now, &b, &intents);
      out->orphaned = child->attr.nlink == 0 && (req.flags & kUnlinkKeepOrphan);
    }
    out->ino = d->ino;
    b.DeleteDentry(req.parent, req.name, d->cookie);
    Touch(&parent->attr, now);
    b.PutInode(*parent);
    return CommitWithIntents(&b, intents);
  }
}

Result<bool> NamespaceService::IsAncestor(Ino maybe_ancestor, Ino dir) const {
  for (int depth = 0; depth < kMaxDepth; ++depth) {
    if (dir == maybe_ancestor) return true;
    if (Status s = CheckLocal(dir); !s.ok()) return s;
    Result<InodeRecord> rec = meta_->GetInode(dir);
    if (!rec.ok()) return rec.status();
    if (rec->attr.parent == dir || rec->attr.parent == 0) return false;  // reached the root
    dir = rec->attr.parent;
  }
  return Status::Error(ELOOP, "directory chain too deep");
}

Status NamespaceService::Rename(const RenameReq& req, UnlinkResp* out) {
  if (Status s = CheckName(req.src_name); !s.ok()) return s;
  if (Status s = CheckName(req.dst_name); !s.ok()) return s;
  if (req.flags & ~(RENAME_NOREPLACE | kRenameKeepOrphan)) return Status::Error(EINVAL);
  const bool noreplace = req.flags & RENAME_NOREPLACE;
  const bool keep_orphan = req.flags & kRenameKeepOrphan;

  for (;;) {
    Result<DentryValue> src_peek = meta_->GetDentry(req.src_parent, req.src_name);
    if (!src_peek.ok()) {
      if (Result<InodeRecord> dir = GetDir(req.src_parent); !dir.ok()) return dir.status();
      return src_peek.status();
    }
    Result<DentryValue> dst_peek = meta_->GetDentry(req.dst_parent, req.dst_name);
    Ino dst_peek_ino = dst_peek.ok() ? dst_peek->ino : 0;
    const bool moves_dir = IsDir(src_peek->mode) && req.src_parent != req.dst_parent;

    std::unique_lock<std::mutex> rename_lock(rename_mu_, std::defer_lock);
    if (moves_dir) rename_lock.lock();
    StripeLocks::Guard g(locks_, {req.src_parent, req.dst_parent, src_peek->ino, dst_peek_ino});

    Result<InodeRecord> sp = GetDir(req.src_parent);
    if (!sp.ok()) return sp.status();
    Result<InodeRecord> dp_rec = req.dst_parent == req.src_parent ? sp : GetDir(req.dst_parent);
    if (!dp_rec.ok()) return dp_rec.status();
    Result<DentryValue> src = meta_->GetDentry(req.src_parent, req.src_name);
    if (!src.ok()) return src.status();
    Result<DentryValue> dst = meta_->GetDentry(req.dst_parent, req.dst_name);
    if (src->ino != src_peek->ino || (dst.ok() ? dst->ino : 0) != dst_peek_ino) continue;
    if (dst_peek_ino == 0 && dst.err() != ENOENT) return dst.status();

    if (req.src_parent == req.dst_parent && req.src_name == req.dst_name) return Status::Ok();
    if (dst.ok() && noreplace) return Status::Error(EEXIST);
    if (dst.ok() && dst->ino == src->ino) return Status::Ok();  // two links to one inode
    if (moves_dir) {
      Result<bool> loop = IsAncestor(src->ino, req.dst_parent);
      if (!loop.ok()) return loop.status();
      if (*loop) return Status::Error(EINVAL, "cannot move a directory into itself");
    }
    if (Status s = CheckLocal(src->ino); !s.ok()) return s;
    Result<InodeRecord> moved = meta_->GetInode(src->ino);
    if (!moved.ok()) return moved.status();

    // One parent record when both names are in the same directory.
    InodeRecord& src_parent = *sp;
    InodeRecord& dst_parent = req.dst_parent == req.src_parent ? *sp : *dp_rec;
    int64_t now = NowNs();
    MetaStore::Batch b;
    std::vector<IntentRecord> intents;

    if (dst.ok()) {
      if (Status s = CheckLocal(dst->ino); !s.ok()) return s;
      Result<InodeRecord> victim = meta_->GetInode(dst->ino);
      if (!victim.ok()) return victim.status();
      if (IsDir(moved->attr.mode) && !IsDir(victim->attr.mode)) return Status::Error(ENOTDIR);
      if (!IsDir(moved->attr.mode) && IsDir(victim->attr.mode)) return Status::Error(EISDIR);
      if (IsDir(victim->attr.mode)) {
        if (!meta_->DirectoryEmpty(victim->attr.ino)) return Status::Error(ENOTEMPTY);
        b.DeleteInode(victim->attr.ino);
        meta_->DeleteAllXattrs(victim->attr.ino, &b);
        meta_->AdjustInodeCount(-1);
        dst_parent.attr.nlink--;
      } else {
        DropLink(&*victim, keep_orphan, now, &b, &intents);
        out->ino = victim->attr.ino;
        out->orphaned = victim->attr.nlink == 0 && keep_orphan;
      }
      b.DeleteDentry(req.dst_parent, req.dst_name, dst->cookie);
    }

    b.DeleteDentry(req.src_parent, req.src_name, src->cookie);
    DentryValue nd{.ino = src->ino, .mode = src->mode, .cookie = dst_parent.next_cookie++};
    b.PutDentry(req.dst_parent, req.dst_name, nd);
    if (moves_dir) {
      src_parent.attr.nlink--;
      dst_parent.attr.nlink++;
      moved->attr.parent = req.dst_parent;
    }
    moved->attr.ctime_ns = now;
    Touch(&src_parent.attr, now);
    Touch(&dst_parent.attr, now);
    b.PutInode(*moved);
    b.PutInode(src_parent);
    if (req.dst_parent != req.src_parent) b.PutInode(dst_parent);
    return CommitWithIntents(&b, intents);
  }
}

Status NamespaceService::Link(const LinkReq& req, Entry* out) {
  if (Status s = CheckName(req.new_name); !s.ok()) return s;
  if (Status s = CheckLocal(req.ino); !s.ok()) return s;
  StripeLocks::Guard g(locks_, {req.new_parent, req.ino});
  Result<InodeRecord> parent = GetDir(req.new_parent);
  if (!parent.ok()) return parent.status();
  Result<InodeRecord> rec = meta_->GetInode(req.ino);
  if (!rec.ok()) return rec.status();
  if (IsDir(rec->attr.mode))
    return Status::Error(EPERM, "hard links to directories are not allowed");
  if (rec->attr.nlink == 0) return Status::Error(ENOENT);
  if (meta_->GetDentry(req.new_parent, req.new_name).ok()) return Status::Error(EEXIST);

  int64_t now = NowNs();
  rec->attr.nlink++;
  rec->attr.ctime_ns = now;
  DentryValue d{.ino = req.ino, .mode = rec->attr.mode, .cookie = parent->next_cookie++};
  Touch(&parent->attr, now);
  MetaStore::Batch b;
  b.PutInode(*rec);
  b.PutInode(*parent);
  b.PutDentry(req.new_parent, req.new_name, d);
  if (Status s = meta_->Commit(&b); !s.ok()) return s;
  *out = MakeEntry(*rec);
  return Status::Ok();
}

Status NamespaceService::Readdir(const ReaddirReq& req, ReaddirResp* out) const {
  if (Result<InodeRecord> dir = GetDir(req.dir); !dir.ok()) return dir.status();
  uint32_t max = std::min(std::max(req.max_entries, 1u), kReaddirMaxEntries);
  out->eof = 1;
  meta_->ScanDentries(req.dir, req.cookie, [&](std::string_view name, const DentryValue& d) {
    if (out->entries.size() >= max) {
      out->eof = 0;
      return false;
    }
    DirEntry e{.name = std::string(name),
               .entry = {.ino = d.ino, .mode = d.mode},
               .next_cookie = d.cookie + 1};
    if (req.plus && HomeOf(d.ino) == self_) {
      if (Result<InodeRecord> rec = meta_->GetInode(d.ino); rec.ok()) e.entry = MakeEntry(*rec);
    }
    out->entries.push_back(std::move(e));
    return true;
  });
  return Status::Ok();
}

Status NamespaceService::Readlink(Ino ino, std::string* out) const {
  if (Status s = CheckLocal(ino); !s.ok()) return s;
  Result<InodeRecord> rec = meta_->GetInode(ino);
  if (!rec.ok()) return rec.status();
  if (!S_ISLNK(rec->attr.mode)) return Status::Error(EINVAL);
  *out = rec->symlink;
  return Status::Ok();
}

Status NamespaceService::SetXattr(const XattrReq& req) {
  if (Status s = CheckLocal(req.ino); !s.ok()) return s;
  if (req.name.empty() || req.name.size() > kXattrNameMax) return Status::Error(ERANGE);
  if (req.value.size() > kXattrValueMax) return Status::Error(E2BIG);
  StripeLocks::Guard g(locks_, {req.ino});
  Result<InodeRecord> rec = meta_->GetInode(req.ino);
  if (!rec.ok()) return rec.status();
  Result<std::string> old = meta_->GetXattr(req.ino, req.name);
  if (!old.ok() && old.err() != ENODATA) return old.status();
  if ((req.flags & XATTR_CREATE) && old.ok()) return Status::Error(EEXIST);
  if ((req.flags & XATTR_REPLACE) && !old.ok()) return Status::Error(ENODATA);
  rec->attr.ctime_ns = NowNs();
  MetaStore::Batch b;
  b.PutXattr(req.ino, req.name, req.value);
  b.PutInode(*rec);
  return meta_->Commit(&b);
}

Status NamespaceService::GetXattr(const XattrReq& req, std::string* value) const {
  if (Status s = CheckLocal(req.ino); !s.ok()) return s;
  if (Result<InodeRecord> rec = meta_->GetInode(req.ino); !rec.ok()) return rec.status();
  Result<std::string> v = meta_->GetXattr(req.ino, req.name);
  if (!v.ok()) return v.status();
  *value = std::move(*v);
  return Status::Ok();
}

Status NamespaceService::ListXattr(Ino ino, std::string* names) const {
  if (Status s = CheckLocal(ino); !s.ok()) return s;
  if (Result<InodeRecord> rec = meta_->GetInode(ino); !rec.ok()) return rec.status();
  meta_->ScanXattrs(ino, [&](std::string_view name) {
    names->append(name);
    names->push_back('\0');
  });
  return Status::Ok();
}

Status NamespaceService::RemoveXattr(const XattrReq& req) {
  if (Status s = CheckLocal(req.ino); !s.ok()) return s;
  StripeLocks::Guard g(locks_, {req.ino});
  Result<InodeRecord> rec = meta_->GetInode(req.ino);
  if (!rec.ok()) return rec.status();
  Result<std::string> old = meta_->GetXattr(req.ino, req.name);
  if (!old.ok()) return old.status();
  rec->attr.ctime_ns = NowNs();
  MetaStore::Batch b;
  b.DeleteXattr(req.ino, req.name);
  b.PutInode(*rec);
  return meta_->Commit(&b);
}

Status NamespaceService::CommitWrite(const CommitWriteReq& req, Attr* out) {
  if (Status s = CheckLocal(req.ino); !s.ok()) return s;
  StripeLocks::Guard g(locks_, {req.ino});
  Result<InodeRecord> rec = meta_->GetInode(req.ino);
  if (!rec.ok()) return rec.status();
  Attr& a = rec->attr;
  Attr before = a;
  int64_t now = NowNs();
  a.size = std::max(a.size, req.min_size);
  if (req.blocks_delta < 0)
    a.blocks -= std::min<uint64_t>(a.blocks, static_cast<uint64_t>(-req.blocks_delta));
  else
    a.blocks += static_cast<uint64_t>(req.blocks_delta);
  if (req.flags & kCommitTouchMtime) Touch(&a, now);
  if ((req.flags & kCommitTouchAtime) && (a.atime_ns <= a.mtime_ns || a.atime_ns <= a.ctime_ns ||
                                          now - a.atime_ns > kRelatimeWindowNs))
    a.atime_ns = now;
  *out = a;
  if (before == a) return Status::Ok();
  MetaStore::Batch b;
  b.PutInode(*rec);
  return meta_->Commit(&b);
}

Status NamespaceService::DropOrphan(Ino ino) {
  if (Status s = CheckLocal(ino); !s.ok()) return s;
  StripeLocks::Guard g(locks_, {ino});
  Result<InodeRecord> rec = meta_->GetInode(ino);
  if (!rec.ok()) return rec.err() == ENOENT ? Status::Ok() : rec.status();
  if (rec->attr.nlink > 0) return Status::Ok();  // linked again meanwhile: not an orphan
  MetaStore::Batch b;
  std::vector<IntentRecord> intents;
  DropLink(&*rec, false, NowNs(), &b, &intents);
  b.DeleteOrphan(ino);
  return CommitWithIntents(&b, intents);
}

}  // namespace sealfs
