#include "namespace_service.h"

#include <fmt/format.h>
#include <linux/fs.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <chrono>
#include <map>
#include <thread>

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

}  // namespace

NamespaceService::NamespaceService(const Deps& deps, ServerId self)
    : meta_(deps.meta),
      locks_(deps.locks),
      intents_(deps.intents),
      applier_(deps.applier),
      coord_(deps.coordinator),
      participant_(deps.participant),
      view_(deps.view),
      self_(self) {}

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
  if (!Here(HomeOf(ino)))
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

Result<InodeRecord*> NamespaceService::GetDir(InodeCache* inodes, Ino ino) const {
  if (Status s = CheckLocal(ino); !s.ok()) return s;
  Result<InodeRecord*> rec = inodes->Get(ino);
  if (!rec.ok()) return rec;
  if (!IsDir((*rec)->attr.mode)) return Status::Error(ENOTDIR);
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
  if (Here(HomeOf(d->ino))) {
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

namespace {

// A bounded wait for other operations' prepared steps to settle.
class BusyWait {
 public:
  // Sleeps a little; false once the wait has lasted too long.
  bool Again() {
    if (std::chrono::steady_clock::now() > deadline_) return false;
    std::this_thread::sleep_for(pause_);
    pause_ = std::min(pause_ * 2, std::chrono::milliseconds(20));
    return true;
  }
  static Status Timeout() {
    return Status::Error(EBUSY, "another operation on the same files is still in flight");
  }

 private:
  std::chrono::steady_clock::time_point deadline_ =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::chrono::milliseconds pause_{1};
};

// Runs `once` until it stops asking for a retry (EAGAIN: an entry changed
// under it, or another operation's prepared steps are in the way); `once`
// holds no lock between attempts.
template <class Fn>
Status Retrying(Fn once) {
  for (BusyWait wait;;) {
    Status s = once();
    if (s.err() != EAGAIN) return s;
    if (!wait.Again()) return BusyWait::Timeout();
  }
}

Attr NewInodeAttr(const MknodReq& req, const Attr& parent) {
  const uint32_t type = req.mode & S_IFMT;
  const int64_t now = NowNs();
  Attr a{.mode = req.mode, .uid = req.uid, .gid = req.gid, .rdev = req.rdev};
  if (parent.mode & S_ISGID) {  // BSD group semantics of set-gid directories
    a.gid = parent.gid;
    if (type == S_IFDIR) a.mode |= S_ISGID;
  }
  a.nlink = type == S_IFDIR ? 2 : 1;
  a.atime_ns = a.mtime_ns = a.ctime_ns = now;
  if (type == S_IFDIR) a.parent = parent.ino;
  if (type == S_IFLNK) a.size = req.symlink.size();
  return a;
}

}  // namespace

Status NamespaceService::Execute(Txn* txn, Steps steps, InodeCache* inodes,
                                 std::vector<Attr>* attrs,
                                 const std::function<Status()>& before_commit) {
  attrs->assign(steps.size(), Attr{});
  std::map<ServerId, std::vector<size_t>> remote;
  std::vector<size_t> local_index;
  std::vector<PeerStep> local;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (Here(steps[i].first)) {
      local_index.push_back(i);
      local.push_back(steps[i].second);
    } else {
      remote[steps[i].first].push_back(i);
    }
  }
  for (const auto& [server, index] : remote) {
    std::vector<PeerStep> batch;
    for (size_t i : index) batch.push_back(steps[i].second);
    Result<std::vector<Attr>> done = txn->Prepare(server, std::move(batch));
    if (!done.ok()) return done.status();
    for (size_t k = 0; k < index.size(); ++k) (*attrs)[index[k]] = (*done)[k];
  }
  MetaStore::Batch b;
  std::vector<IntentRecord> intents;
  std::vector<Attr> local_attrs;
  if (Status s = applier_->ApplyLocal(&local, inodes, &b, &intents, &local_attrs); !s.ok())
    return s;
  for (size_t k = 0; k < local_index.size(); ++k) (*attrs)[local_index[k]] = local_attrs[k];
  if (before_commit) {
    if (Status s = before_commit(); !s.ok()) return s;
  }
  inodes->Flush(&b);
  return txn->Commit(&b, intents);
}

Status NamespaceService::Mknod(const MknodReq& req, Entry* out) {
  if (Status s = CheckName(req.name); !s.ok()) return s;
  uint32_t type = req.mode & S_IFMT;
  if (type != S_IFREG && type != S_IFDIR && type != S_IFLNK && type != S_IFIFO && type != S_IFCHR &&
      type != S_IFBLK && type != S_IFSOCK)
    return Status::Error(EINVAL, "unknown file type");
  if (type == S_IFLNK && (req.symlink.empty() || req.symlink.size() > kSymlinkMax))
    return Status::Error(req.symlink.empty() ? ENOENT : ENAMETOOLONG);
  // Directories spread over the cluster; everything else stays with its parent.
  const ServerId home =
      type == S_IFDIR ? view_->Current()->placement.DirServer(req.parent, req.name) : self_;
  return Retrying([&] { return MknodOnce(req, home, out); });
}

Status NamespaceService::MknodOnce(const MknodReq& req, ServerId home, Entry* out) {
  const uint32_t type = req.mode & S_IFMT;
  {
    Txn txn(coord_);
    StripeLocks::Guard g(locks_, {req.parent});
    InodeCache inodes(meta_);
    Result<InodeRecord*> parent = GetDir(&inodes, req.parent);
    if (!parent.ok()) return parent.status();
    if ((*parent)->attr.nlink == 0) return Status::Error(ENOENT, "directory was removed");
    Result<DentryValue> existing = meta_->GetDentry(req.parent, req.name);
    if (existing.ok()) return Status::Error(EEXIST);
    if (existing.err() != ENOENT) return existing.status();
    if (participant_->Busy({}, {{req.parent, req.name}})) return Status::Error(EAGAIN);

    PeerStep create = InodeStep(StepKind::kCreateInode, 0);
    create.attr = NewInodeAttr(req, (*parent)->attr);
    Steps steps;
    InodeRecord rec;
    if (Here(home)) {
      Result<Ino> ino = meta_->AllocateIno();
      if (!ino.ok()) return ino.status();
      create.ino = create.attr.ino = *ino;
      if (type == S_IFLNK) {
        // The target is part of the record, written here rather than by the step.
        rec.attr = create.attr;
        rec.symlink = req.symlink;
        inodes.Put(rec);
        meta_->AdjustInodeCount(1);
      } else {
        steps.emplace_back(self_, create);
      }
    } else {
      // The new directory's number comes from its home server.
      Result<std::vector<Attr>> made = txn.Prepare(home, {create});
      if (!made.ok()) return made.status();
      create.attr = (*made)[0];
    }
    steps.emplace_back(self_, EntryStep(StepKind::kPutEntry, req.parent, req.name, create.attr.ino,
                                        create.attr.mode, type == S_IFDIR));
    std::vector<Attr> attrs;
    Status s = Execute(&txn, std::move(steps), &inodes, &attrs);
    if (!s.ok()) return s;
    rec.attr = create.attr;
    *out = MakeEntry(rec);
    return Status::Ok();
  }
}

Status NamespaceService::Unlink(const UnlinkReq& req, UnlinkResp* out) {
  if (Status s = CheckName(req.name); !s.ok()) return s;
  return Retrying([&] { return UnlinkOnce(req, out); });
}

Status NamespaceService::UnlinkOnce(const UnlinkReq& req, UnlinkResp* out) {
  const bool rmdir = req.flags & kUnlinkDir;
  {
    Result<DentryValue> peek = meta_->GetDentry(req.parent, req.name);
    if (!peek.ok()) {
      if (Result<InodeRecord> dir = GetDir(req.parent); !dir.ok()) return dir.status();
      return peek.status();
    }
    const Ino victim = peek->ino;
    const ServerId home = HomeOf(victim);
    Txn txn(coord_);
    StripeLocks::Guard g(locks_, {req.parent, Here(home) ? victim : 0});
    InodeCache inodes(meta_);
    if (Result<InodeRecord*> parent = GetDir(&inodes, req.parent); !parent.ok())
      return parent.status();
    Result<DentryValue> d = meta_->GetDentry(req.parent, req.name);
    if (!d.ok()) return d.status();
    if (d->ino != victim)
      return Status::Error(EAGAIN);  // replaced while we were not holding its lock
    if (rmdir && !IsDir(d->mode)) return Status::Error(ENOTDIR);
    if (!rmdir && IsDir(d->mode)) return Status::Error(EISDIR);

    PeerStep drop = InodeStep(rmdir ? StepKind::kRemoveDir : StepKind::kDropLink, victim);
    if (req.flags & kUnlinkKeepOrphan) drop.flags = kStepKeepOrphan;
    Steps steps{{home, drop},
                {self_, EntryStep(StepKind::kDeleteEntry, req.parent, req.name, victim, d->mode,
                                  rmdir ? -1 : 0)}};
    if (participant_->Busy({victim}, {{req.parent, req.name}})) return Status::Error(EAGAIN);
    std::vector<Attr> attrs;
    if (Status s = Execute(&txn, std::move(steps), &inodes, &attrs); !s.ok()) return s;
    out->ino = victim;
    out->orphaned = !rmdir && attrs[0].nlink == 0 && (req.flags & kUnlinkKeepOrphan);
    return Status::Ok();
  }
}

Result<Entry> NamespaceService::PeekEntry(Ino parent, const std::string& name) const {
  if (Here(HomeOf(parent))) {
    Result<DentryValue> d = meta_->GetDentry(parent, name);
    if (!d.ok()) {
      if (Result<InodeRecord> dir = GetDir(parent); !dir.ok()) return dir.status();
      return d.status();
    }
    return Entry{.ino = d->ino, .mode = d->mode};
  }
  RpcChannel* ch = coord_->Peer(HomeOf(parent));
  if (!ch) return Status::Error(EIO, fmt::format("inode {:#x} has no server", parent));
  LookupReq q{.parent = parent, .name = name};
  Entry e;
  if (Status s = ch->Call(Op::kLookup, q, &e, true); !s.ok()) return s;
  return e;
}

Result<Attr> NamespaceService::AttrAnywhere(Ino ino) const {
  if (Here(HomeOf(ino))) {
    Result<InodeRecord> rec = meta_->GetInode(ino);
    if (!rec.ok()) return rec.status();
    return rec->attr;
  }
  RpcChannel* ch = coord_->Peer(HomeOf(ino));
  if (!ch) return Status::Error(EIO, fmt::format("inode {:#x} has no server", ino));
  InoReq q{ino};
  Attr a;
  if (Status s = ch->Call(Op::kGetattr, q, &a, true); !s.ok()) return s;
  return a;
}

Result<bool> NamespaceService::IsAncestor(Ino maybe_ancestor, Ino dir) const {
  for (int depth = 0; depth < kMaxDepth; ++depth) {
    if (dir == maybe_ancestor) return true;
    Result<Attr> a = AttrAnywhere(dir);
    if (!a.ok()) return a.status();
    if (a->parent == dir || a->parent == 0) return false;  // reached the root
    dir = a->parent;
  }
  return Status::Error(ELOOP, "directory chain too deep");
}

Status NamespaceService::Rename(const RenameReq& req, UnlinkResp* out) {
  if (Status s = CheckName(req.src_name); !s.ok()) return s;
  if (Status s = CheckName(req.dst_name); !s.ok()) return s;
  if (req.flags & ~(RENAME_NOREPLACE | kRenameKeepOrphan)) return Status::Error(EINVAL);
  return Retrying([&] { return RenameOnce(req, out); });
}

Status NamespaceService::RenameOnce(const RenameReq& req, UnlinkResp* out) {
  const bool noreplace = req.flags & RENAME_NOREPLACE;
  const Ino sp = req.src_parent, dp = req.dst_parent;
  {
    Result<Entry> src_peek = PeekEntry(sp, req.src_name);
    if (!src_peek.ok()) return src_peek.status();
    Result<Entry> dst_peek = PeekEntry(dp, req.dst_name);
    if (!dst_peek.ok() && dst_peek.err() != ENOENT) return dst_peek.status();
    const Ino moved = src_peek->ino;
    const Ino victim = dst_peek.ok() ? dst_peek->ino : 0;
    const uint32_t moved_mode = src_peek->mode;
    const uint32_t victim_mode = dst_peek.ok() ? dst_peek->mode : 0;
    const bool moves_dir = IsDir(moved_mode) && sp != dp;

    if (sp == dp && req.src_name == req.dst_name) return Status::Ok();
    if (victim != 0 && noreplace) return Status::Error(EEXIST);
    if (victim == moved) return Status::Ok();  // two links to one inode
    if (victim != 0 && IsDir(moved_mode) && !IsDir(victim_mode)) return Status::Error(ENOTDIR);
    if (victim != 0 && !IsDir(moved_mode) && IsDir(victim_mode)) return Status::Error(EISDIR);

    // Moving a directory to another parent takes the cluster's move lock
    // (held across the loop check and the commit), as the VFS does per file system.
    std::unique_ptr<DirMoveLock> move_lock;
    if (moves_dir) {
      Result<std::unique_ptr<DirMoveLock>> l = DirMoveLock::Acquire(coord_);
      if (!l.ok()) return l.status();
      move_lock = std::move(*l);
    }
    auto local = [&](Ino ino) { return Here(HomeOf(ino)) ? ino : 0; };
    Txn txn(coord_);
    StripeLocks::Guard g(locks_, {sp, local(dp), local(moved), local(victim)});
    InodeCache inodes(meta_);
    if (Result<InodeRecord*> dir = GetDir(&inodes, sp); !dir.ok()) return dir.status();
    Result<DentryValue> src = meta_->GetDentry(sp, req.src_name);
    if (!src.ok()) return src.status();
    if (src->ino != moved) return Status::Error(EAGAIN);
    if (local(dp)) {
      if (Result<InodeRecord*> dir = GetDir(&inodes, dp); !dir.ok()) return dir.status();
      Result<DentryValue> dst = meta_->GetDentry(dp, req.dst_name);
      if ((dst.ok() ? dst->ino : 0) != victim) return Status::Error(EAGAIN);
    }
    if (moves_dir) {
      Result<bool> loop = IsAncestor(moved, dp);
      if (!loop.ok()) return loop.status();
      if (*loop) return Status::Error(EINVAL, "cannot move a directory into itself");
    }
    if (!IsDir(moved_mode) && local(moved)) {
      if (Result<InodeRecord*> rec = inodes.Get(moved); rec.ok()) (*rec)->attr.ctime_ns = NowNs();
    }

    const int dst_links = (moves_dir ? 1 : 0) - (victim != 0 && IsDir(victim_mode) ? 1 : 0);
    Steps steps{{self_, EntryStep(StepKind::kDeleteEntry, sp, req.src_name, moved, moved_mode,
                                  moves_dir ? -1 : 0)},
                {HomeOf(dp), EntryStep(StepKind::kPutEntry, dp, req.dst_name, moved, moved_mode,
                                       dst_links, victim)}};
    if (victim != 0) {
      PeerStep drop =
          InodeStep(IsDir(victim_mode) ? StepKind::kRemoveDir : StepKind::kDropLink, victim);
      if (req.flags & kRenameKeepOrphan) drop.flags = kStepKeepOrphan;
      steps.emplace_back(HomeOf(victim), drop);
    }
    if (moves_dir) {
      PeerStep reparent = InodeStep(StepKind::kSetParent, moved);
      reparent.parent = dp;
      steps.emplace_back(HomeOf(moved), reparent);
    }
    auto lock_still_held = [&] {
      return !move_lock || move_lock->Valid()
                 ? Status::Ok()
                 : Status::Error(EIO, "directory move took longer than its lock's lease");
    };
    if (participant_->Busy({moved, victim}, {{sp, req.src_name}, {dp, req.dst_name}}))
      return Status::Error(EAGAIN);
    std::vector<Attr> attrs;
    if (Status s = Execute(&txn, std::move(steps), &inodes, &attrs, lock_still_held); !s.ok())
      return s;
    if (victim != 0 && !IsDir(victim_mode)) {
      out->ino = victim;
      out->orphaned = attrs[2].nlink == 0 && (req.flags & kRenameKeepOrphan);
    }
    return Status::Ok();
  }
}

Status NamespaceService::Link(const LinkReq& req, Entry* out) {
  if (Status s = CheckName(req.new_name); !s.ok()) return s;
  return Retrying([&] { return LinkOnce(req, out); });
}

Status NamespaceService::LinkOnce(const LinkReq& req, Entry* out) {
  const ServerId home = HomeOf(req.ino);
  {
    Txn txn(coord_);
    StripeLocks::Guard g(locks_, {req.new_parent, Here(home) ? req.ino : 0});
    InodeCache inodes(meta_);
    Result<InodeRecord*> parent = GetDir(&inodes, req.new_parent);
    if (!parent.ok()) return parent.status();
    if ((*parent)->attr.nlink == 0) return Status::Error(ENOENT, "directory was removed");
    if (meta_->GetDentry(req.new_parent, req.new_name).ok()) return Status::Error(EEXIST);

    if (participant_->Busy({req.ino}, {{req.new_parent, req.new_name}}))
      return Status::Error(EAGAIN);

    // The entry records the file type: known here, or once the inode has its link.
    Steps steps;
    Attr target;
    if (Here(home)) {
      Result<InodeRecord*> rec = inodes.Get(req.ino);
      if (!rec.ok()) return rec.status();
      target = (*rec)->attr;
      steps.emplace_back(self_, InodeStep(StepKind::kAddLink, req.ino));
    } else {
      Result<std::vector<Attr>> linked =
          txn.Prepare(home, {InodeStep(StepKind::kAddLink, req.ino)});
      if (!linked.ok()) return linked.status();
      target = (*linked)[0];
    }
    steps.emplace_back(self_, EntryStep(StepKind::kPutEntry, req.new_parent, req.new_name, req.ino,
                                        target.mode, 0));
    std::vector<Attr> attrs;
    if (Status s = Execute(&txn, std::move(steps), &inodes, &attrs); !s.ok()) return s;
    InodeRecord rec;
    rec.attr = Here(home) ? attrs[0] : target;
    *out = MakeEntry(rec);
    return Status::Ok();
  }
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
    if (req.plus && Here(HomeOf(d.ino))) {
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
  InodeCache inodes(meta_);
  Result<InodeRecord*> rec = inodes.Get(ino);
  if (!rec.ok()) return rec.err() == ENOENT ? Status::Ok() : rec.status();
  if ((*rec)->attr.nlink > 0) return Status::Ok();         // linked again meanwhile: not an orphan
  if (participant_->Busy({ino}, {})) return Status::Ok();  // an operation in flight decides
  MetaStore::Batch b;
  std::vector<IntentRecord> intents;
  applier_->DeleteInode((*rec)->attr, &inodes, &b, &intents);
  inodes.Flush(&b);
  for (const IntentRecord& i : intents) b.PutIntent(i);
  Status s = meta_->Commit(&b);
  if (s.ok() && !intents.empty()) intents_->Kick();
  return s;
}

}  // namespace sealfs
