#include "fsck.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <set>

#include "intent_runner.h"
#include "namespace_service.h"

namespace sealfs {
namespace {

constexpr char kLostAndFound[] = "lost+found";

}  // namespace

void Fsck::Problem(const std::string& what, bool repaired) {
  report_.problems++;
  if (repaired) report_.repaired++;
  *out_ << what << (repaired ? "  [repaired]" : "") << "\n";
}

void Fsck::Commit(ServerId server, MetaStore::Batch* b) {
  if (Status s = (*stores_)[server].meta->Commit(b); !s.ok())
    *out_ << fmt::format("server {}: repair write failed: {}\n", server, s.ToString());
}

void Fsck::LoadInodes() {
  for (auto& [id, st] : *stores_) {
    st.meta->ScanInodes([&](const InodeRecord& rec) {
      if (HomeOf(rec.attr.ino) != id) {
        Problem(fmt::format("server {}: holds inode {:#x} of server {}", id, rec.attr.ino,
                            HomeOf(rec.attr.ino)),
                false);
        return;
      }
      inodes_[rec.attr.ino] = rec;
    });
    st.meta->ScanOrphans([&](Ino ino) { orphans_.insert(ino); });
    st.meta->ScanIntents([&](const IntentRecord& r) {
      report_.pending_intents++;
      uint64_t size = r.kind == static_cast<uint16_t>(IntentKind::kDropData) ? 0 : r.size;
      auto [it, inserted] = pending_.try_emplace(r.ino, size);
      if (!inserted) it->second = std::min(it->second, size);
      *out_ << fmt::format("server {}: pending intent {:#x} (kind {}) on inode {:#x}{}\n", id, r.id,
                           r.kind, r.ino, repair_ ? "" : " — a running server finishes it");
    });
  }
  Ino root = config_.RootIno();
  auto it = inodes_.find(root);
  if (it == inodes_.end() || !S_ISDIR(it->second.attr.mode))
    Problem(
        fmt::format("server {}: the root directory {:#x} is missing", config_.RootServer(), root),
        false);
}

void Fsck::CheckEntries() {
  for (auto& [id, st] : *stores_) {
    std::map<std::pair<Ino, uint64_t>, std::string> index;
    st.meta->ScanCookieIndex([&](Ino parent, uint64_t cookie, std::string_view name) {
      index[{parent, cookie}] = std::string(name);
    });
    std::set<std::pair<Ino, uint64_t>> used;
    std::vector<Link> entries;
    st.meta->ScanAllDentries([&](Ino parent, std::string_view name, const DentryValue& v) {
      entries.push_back({id, parent, std::string(name), v});
    });
    for (Link& l : entries) {
      std::string where = fmt::format("server {}: entry {:#x}/{}", id, l.parent, l.name);
      auto parent = inodes_.find(l.parent);
      auto target = inodes_.find(l.value.ino);
      bool bad_parent =
          HomeOf(l.parent) != id || parent == inodes_.end() || !S_ISDIR(parent->second.attr.mode);
      used.insert({l.parent, l.value.cookie});  // its index goes with it
      if (bad_parent || target == inodes_.end()) {
        std::string why = bad_parent ? "is in a missing directory"
                                     : fmt::format("points at missing inode {:#x}", l.value.ino);
        MetaStore::Batch b;
        b.DeleteDentry(l.parent, l.name, l.value.cookie);
        if (repair_) Commit(id, &b);
        Problem(where + " " + why, repair_);
        continue;
      }
      auto idx = index.find({l.parent, l.value.cookie});
      bool type_ok = (l.value.mode & S_IFMT) == (target->second.attr.mode & S_IFMT);
      if (idx == index.end() || idx->second != l.name || !type_ok) {
        l.value.mode = target->second.attr.mode;
        MetaStore::Batch b;
        b.PutDentry(l.parent, l.name, l.value);
        if (repair_) Commit(id, &b);
        Problem(where + (type_ok ? " has no readdir index" : " records the wrong file type"),
                repair_);
      }
      links_.push_back(l);
    }
    for (const auto& [key, name] : index) {
      if (used.count(key)) continue;
      MetaStore::Batch b;
      b.DeleteCookieIndex(key.first, key.second);
      if (repair_) Commit(id, &b);
      Problem(fmt::format("server {}: readdir index {:#x}@{} ({}) has no entry", id, key.first,
                          key.second, name),
              repair_);
    }
  }
}

Ino Fsck::LostAndFound() {
  Ino root = config_.RootIno();
  MetaStore* meta = (*stores_)[config_.RootServer()].meta.get();
  if (Result<DentryValue> d = meta->GetDentry(root, kLostAndFound); d.ok()) return d->ino;
  Result<Ino> ino = meta->AllocateIno();
  Result<InodeRecord> root_rec = meta->GetInode(root);
  if (!ino.ok() || !root_rec.ok()) return 0;
  int64_t now = NowNs();
  InodeRecord rec;
  rec.attr = Attr{.ino = *ino,
                  .mode = S_IFDIR | 0700,
                  .nlink = 2,
                  .atime_ns = now,
                  .mtime_ns = now,
                  .ctime_ns = now,
                  .parent = root};
  DentryValue d{.ino = *ino, .mode = rec.attr.mode, .cookie = root_rec->next_cookie++};
  root_rec->attr.nlink++;
  MetaStore::Batch b;
  b.PutInode(rec);
  b.PutInode(*root_rec);
  b.PutDentry(root, kLostAndFound, d);
  Commit(config_.RootServer(), &b);
  inodes_[*ino] = rec;
  inodes_[root] = *root_rec;
  return *ino;
}

void Fsck::CheckLinkCounts() {
  std::map<Ino, std::vector<const Link*>> by_target;
  std::map<Ino, uint32_t> subdirs;
  for (const Link& l : links_) {
    by_target[l.value.ino].push_back(&l);
    if (S_ISDIR(inodes_[l.value.ino].attr.mode)) subdirs[l.parent]++;
  }
  Ino root = config_.RootIno();
  std::vector<Ino> unreachable;
  for (auto& [ino, rec] : inodes_) {
    Attr& a = rec.attr;
    const auto& refs = by_target[ino];
    if (ino != root && refs.empty()) {
      if (a.nlink == 0 && orphans_.count(ino)) {
        *out_ << fmt::format("server {}: inode {:#x} was unlinked while open and is still kept\n",
                             HomeOf(ino), ino);
        continue;
      }
      unreachable.push_back(ino);
      continue;
    }
    uint32_t expected = S_ISDIR(a.mode) ? 2 + subdirs[ino] : static_cast<uint32_t>(refs.size());
    bool parent_ok =
        !S_ISDIR(a.mode) || ino == root || (refs.size() == 1 && a.parent == refs[0]->parent);
    if (S_ISDIR(a.mode) && refs.size() > 1)
      Problem(fmt::format("directory {:#x} has {} entries", ino, refs.size()), false);
    if (a.nlink != expected || !parent_ok) {
      std::string what =
          fmt::format("server {}: inode {:#x} has link count {}, expected {}{}", HomeOf(ino), ino,
                      a.nlink, expected, parent_ok ? "" : " and a wrong parent");
      a.nlink = expected;
      if (!parent_ok && refs.size() == 1) a.parent = refs[0]->parent;
      MetaStore::Batch b;
      b.PutInode(rec);
      if (repair_) Commit(HomeOf(ino), &b);
      Problem(what, repair_);
    }
  }
  for (Ino ino : unreachable) {
    std::string what =
        fmt::format("server {}: inode {:#x} is not reachable from the root", HomeOf(ino), ino);
    if (!repair_) {
      Problem(what, false);
      continue;
    }
    Ino lf = LostAndFound();
    if (lf == 0 || HomeOf(lf) != HomeOf(ino)) {
      Problem(what + " (lost+found is on another server: not repaired)", false);
      continue;
    }
    InodeRecord& rec = inodes_[ino];
    InodeRecord& lf_rec = inodes_[lf];
    MetaStore::Batch b;
    DentryValue d{.ino = ino, .mode = rec.attr.mode, .cookie = lf_rec.next_cookie++};
    b.PutDentry(lf, fmt::format("{:016x}", ino), d);
    if (S_ISDIR(rec.attr.mode)) {
      rec.attr.parent = lf;
      lf_rec.attr.nlink++;
    } else {
      rec.attr.nlink = 1;
    }
    b.PutInode(rec);
    b.PutInode(lf_rec);
    b.DeleteOrphan(ino);
    Commit(HomeOf(ino), &b);
    Problem(what + " -> moved to /lost+found", true);
  }
}

void Fsck::CheckChunks() {
  for (auto& [id, st] : *stores_) {
    std::map<Ino, uint64_t> cut;  // ino -> size to truncate to
    st.chunks->ForEachChunk([&](Ino ino, uint64_t chunk, uint64_t) {
      auto p = pending_.find(ino);
      uint64_t start = chunk * config_.chunk_size;
      auto it = inodes_.find(ino);
      uint64_t size = it == inodes_.end() ? 0 : it->second.attr.size;
      if (p != pending_.end() && start >= p->second) return;  // an intent removes it
      if (it == inodes_.end() || start >= size) cut.try_emplace(ino, size);
    });
    for (auto& [ino, size] : cut) {
      if (repair_) (void)st.chunks->Truncate(ino, size);
      Problem(fmt::format("server {}: chunks of inode {:#x} {}", id, ino,
                          inodes_.count(ino) ? fmt::format("lie beyond its size {}", size)
                                             : std::string("belong to no inode")),
              repair_);
    }
  }
}

void Fsck::FinishIntents() {
  for (auto& [id, st] : *stores_) {
    std::vector<IntentRecord> intents;
    st.meta->ScanIntents([&](const IntentRecord& r) { intents.push_back(r); });
    for (const IntentRecord& r : intents) {
      uint64_t size = r.kind == static_cast<uint16_t>(IntentKind::kDropData) ? 0 : r.size;
      for (auto& [other, os] : *stores_) (void)os.chunks->Truncate(r.ino, size);
      MetaStore::Batch b;
      b.DeleteIntent(r.id);
      Commit(id, &b);
      *out_ << fmt::format("server {}: finished intent {:#x}\n", id, r.id);
    }
  }
}

Fsck::Report Fsck::Run() {
  LoadInodes();
  CheckEntries();
  CheckLinkCounts();
  CheckChunks();
  if (repair_) FinishIntents();
  return report_;
}

}  // namespace sealfs
