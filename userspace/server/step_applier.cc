#include "step_applier.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <ctime>

#include "intent_runner.h"

namespace sealfs {
int64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

void Touch(Attr* a, int64_t now) { a->mtime_ns = a->ctime_ns = now; }

PeerStep InodeStep(StepKind kind, Ino ino) {
  return PeerStep{.kind = static_cast<uint8_t>(kind), .ino = ino};
}

PeerStep EntryStep(StepKind kind, Ino parent, const std::string& name, Ino ino, uint32_t mode,
                   int dir_links, Ino expect) {
  return PeerStep{.kind = static_cast<uint8_t>(kind),
                  .ino = ino,
                  .parent = parent,
                  .name = name,
                  .expect = expect,
                  .dir_links = static_cast<int8_t>(dir_links),
                  .attr = Attr{.mode = mode}};
}

void StepInodes(const PeerStep& s, std::vector<Ino>* out) {
  if (s.ino != 0) out->push_back(s.ino);
  if (s.parent != 0) out->push_back(s.parent);
}

Result<InodeRecord*> InodeCache::Get(Ino ino) {
  auto it = slots_.find(ino);
  if (it == slots_.end()) {
    Result<InodeRecord> rec = meta_->GetInode(ino);
    if (!rec.ok() && rec.err() != ENOENT) return rec.status();
    Slot slot;
    if (rec.ok()) slot.rec = std::move(*rec);
    it = slots_.emplace(ino, std::move(slot)).first;
  }
  if (!it->second.rec) return Status::Error(ENOENT);
  it->second.dirty = true;  // callers get the record to change it
  return &*it->second.rec;
}

void InodeCache::Put(const InodeRecord& rec) {
  slots_[rec.attr.ino] = Slot{.rec = rec, .dirty = true};
}

void InodeCache::Erase(Ino ino) { slots_[ino] = Slot{.rec = std::nullopt, .dirty = true}; }

void InodeCache::Flush(MetaStore::Batch* b) {
  for (auto& [ino, slot] : slots_) {
    if (!slot.dirty) continue;
    if (slot.rec)
      b->PutInode(*slot.rec);
    else
      b->DeleteInode(ino);
    slot.dirty = false;
  }
}

void StepApplier::DeleteInode(const Attr& a, InodeCache* inodes, MetaStore::Batch* b,
                              std::vector<IntentRecord>* intents) {
  inodes->Erase(a.ino);
  meta_->DeleteAllXattrs(a.ino, b);
  b->DeleteOrphan(a.ino);
  meta_->AdjustInodeCount(-1);
  if (!S_ISREG(a.mode) || (a.size == 0 && a.blocks == 0)) return;
  Result<uint64_t> id = meta_->AllocateIntentId();
  if (!id.ok()) {
    spdlog::error("cannot record data removal of {:#x}: {}; sealfs-fsck will find its chunks",
                  a.ino, id.status().ToString());
    return;
  }
  intents->push_back(
      IntentRecord{.id = *id, .kind = static_cast<uint16_t>(IntentKind::kDropData), .ino = a.ino});
}

Status StepApplier::Prepare(PeerStep* step, InodeCache* inodes, MetaStore::Batch* b,
                            PreparedStep* undo, Attr* attr) {
  const int64_t now = NowNs();
  undo->step = *step;
  switch (static_cast<StepKind>(step->kind)) {
    case StepKind::kCreateInode: {
      if (step->ino == 0) {
        Result<Ino> ino = meta_->AllocateIno();
        if (!ino.ok()) return ino.status();
        step->ino = *ino;
      }
      InodeRecord rec;
      rec.attr = step->attr;
      rec.attr.ino = step->ino;
      inodes->Put(rec);
      meta_->AdjustInodeCount(1);
      undo->step = *step;
      *attr = rec.attr;
      return Status::Ok();
    }
    case StepKind::kAddLink:
    case StepKind::kDropLink:
    case StepKind::kRemoveDir:
    case StepKind::kSetParent: {
      Result<InodeRecord*> rec = inodes->Get(step->ino);
      if (!rec.ok()) return rec.status();
      Attr& a = (*rec)->attr;
      const bool dir = S_ISDIR(a.mode);
      switch (static_cast<StepKind>(step->kind)) {
        case StepKind::kAddLink:
          if (dir) return Status::Error(EPERM, "hard links to directories are not allowed");
          if (a.nlink == 0) return Status::Error(ENOENT);
          a.nlink++;
          break;
        case StepKind::kDropLink:
          if (dir) return Status::Error(EISDIR);
          if (a.nlink > 0) a.nlink--;
          break;
        case StepKind::kRemoveDir:
          if (!dir) return Status::Error(ENOTDIR);
          if (!meta_->DirectoryEmpty(step->ino)) return Status::Error(ENOTEMPTY);
          undo->old_nlink = a.nlink;
          a.nlink = 0;  // refuses new entries until the directory goes
          break;
        default:  // kSetParent
          if (!dir) return Status::Error(ENOTDIR);
          undo->old_parent = a.parent;
          a.parent = step->parent;
          break;
      }
      a.ctime_ns = now;
      *attr = a;
      return Status::Ok();
    }
    case StepKind::kPutEntry:
    case StepKind::kDeleteEntry: {
      Result<InodeRecord*> dir = inodes->Get(step->parent);
      if (!dir.ok()) return dir.status();
      InodeRecord& d = **dir;
      if (!S_ISDIR(d.attr.mode)) return Status::Error(ENOTDIR);
      Result<DentryValue> cur = meta_->GetDentry(step->parent, step->name);
      if (!cur.ok() && cur.err() != ENOENT) return cur.status();
      if (step->kind == static_cast<uint8_t>(StepKind::kPutEntry)) {
        if (d.attr.nlink == 0) return Status::Error(ENOENT, "directory was removed");
        if ((cur.ok() ? cur->ino : 0) != step->expect)
          return Status::Error(EAGAIN, "entry changed meanwhile");
        if (cur.ok()) {
          undo->replaced = 1;
          undo->victim = *cur;
          b->DeleteCookieIndex(step->parent, cur->cookie);
        }
        undo->entry =
            DentryValue{.ino = step->ino, .mode = step->attr.mode, .cookie = d.next_cookie++};
        b->PutDentry(step->parent, step->name, undo->entry);
      } else {
        if (!cur.ok()) return cur.status();
        if (cur->ino != step->ino) return Status::Error(EAGAIN, "entry changed meanwhile");
        undo->entry = *cur;
        b->DeleteDentry(step->parent, step->name, cur->cookie);
      }
      d.attr.nlink += step->dir_links;
      Touch(&d.attr, now);
      return Status::Ok();
    }
  }
  return Status::Error(EINVAL, "unknown step kind");
}

void StepApplier::Finish(const PreparedStep& p, bool commit, InodeCache* inodes,
                         MetaStore::Batch* b, std::vector<IntentRecord>* intents) {
  const PeerStep& s = p.step;
  const auto kind = static_cast<StepKind>(s.kind);
  if (kind == StepKind::kPutEntry || kind == StepKind::kDeleteEntry) {
    if (commit) return;
    if (kind == StepKind::kPutEntry) {
      b->DeleteDentry(s.parent, s.name, p.entry.cookie);
      if (p.replaced) b->PutDentry(s.parent, s.name, p.victim);
    } else {
      b->PutDentry(s.parent, s.name, p.entry);
    }
    if (Result<InodeRecord*> dir = inodes->Get(s.parent); dir.ok())
      (*dir)->attr.nlink -= s.dir_links;
    return;
  }
  Result<InodeRecord*> rec = inodes->Get(s.ino);
  if (!rec.ok()) return;  // already gone: nothing left to finish
  Attr& a = (*rec)->attr;
  switch (kind) {
    case StepKind::kCreateInode:
      if (!commit) DeleteInode(a, inodes, b, intents);
      return;
    case StepKind::kAddLink:
      if (commit) return;
      if (a.nlink > 0) a.nlink--;
      if (a.nlink == 0) DeleteInode(a, inodes, b, intents);
      return;
    case StepKind::kDropLink:
      if (!commit) {
        a.nlink++;
      } else if (a.nlink == 0) {
        if (s.flags & kStepKeepOrphan)
          b->PutOrphan(a.ino);
        else
          DeleteInode(a, inodes, b, intents);
      }
      return;
    case StepKind::kRemoveDir:
      if (commit)
        DeleteInode(a, inodes, b, intents);
      else
        a.nlink = p.old_nlink;
      return;
    case StepKind::kSetParent:
      if (!commit && a.parent == s.parent) a.parent = p.old_parent;
      return;
    default:
      return;
  }
}

Status StepApplier::FinishAll(uint64_t txn, std::vector<std::pair<uint64_t, PreparedStep>> steps,
                              bool commit, std::vector<IntentRecord>* intents) {
  if (!commit) std::reverse(steps.begin(), steps.end());
  InodeCache inodes(meta_);
  MetaStore::Batch b;
  for (const auto& [seq, p] : steps) {
    Finish(p, commit, &inodes, &b, intents);
    b.DeletePrepared(txn, seq);
  }
  inodes.Flush(&b);
  for (const IntentRecord& i : *intents) b.PutIntent(i);
  return meta_->Commit(&b);
}

Status StepApplier::ApplyLocal(std::vector<PeerStep>* steps, InodeCache* inodes,
                               MetaStore::Batch* b, std::vector<IntentRecord>* intents,
                               std::vector<Attr>* attrs) {
  attrs->assign(steps->size(), Attr{});
  std::vector<PreparedStep> prepared(steps->size());
  for (size_t i = 0; i < steps->size(); ++i) {
    if (Status s = Prepare(&(*steps)[i], inodes, b, &prepared[i], &(*attrs)[i]); !s.ok()) return s;
  }
  for (const PreparedStep& p : prepared) Finish(p, true, inodes, b, intents);
  return Status::Ok();
}

}  // namespace sealfs
