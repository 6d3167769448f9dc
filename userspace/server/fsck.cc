#include "fsck.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <set>

#include "intent_runner.h"
#include "membership.h"
#include "step_applier.h"

namespace sealfs {
namespace {

constexpr char kLostAndFound[] = "lost+found";
// What fsck asks for per request (the servers cap it too).
constexpr uint32_t kPageBytes = 1u << 20;
constexpr uint32_t kPageChunks = 16384;
// The key prefixes fsck reads (meta_store.h): inodes, entries, readdir index,
// orphans, intents, steps prepared for other servers' operations.
constexpr const char* kPrefixes[] = {"I", "D", "E", "O", "N", "R"};

uint64_t ReadBE64(std::string_view s) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}

template <class M>
bool DecodeRecord(std::string_view raw, M* m) {
  return Decode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(raw.data()), raw.size()),
                m);
}

// A record as it is stored, as evidence of a finding.
template <class M>
std::string Evidence(M m) {
  std::vector<uint8_t> v = Encode(m);
  return std::string(v.begin(), v.end());
}

void AddRecord(ServerScan* scan, const KeyValue& kv) {
  std::string_view k = kv.key;
  bool ok = false;
  switch (k.empty() ? '\0' : k[0]) {
    case 'I': {
      InodeRecord rec;
      if ((ok = DecodeRecord(kv.value, &rec))) scan->inodes.push_back(std::move(rec));
      break;
    }
    case 'D': {
      ServerScan::Dentry d;
      if ((ok = k.size() >= 9 && DecodeRecord(kv.value, &d.value))) {
        d.parent = ReadBE64(k.substr(1));
        d.name = k.substr(9);
        scan->dentries.push_back(std::move(d));
      }
      break;
    }
    case 'E':
      if ((ok = k.size() == 17))
        scan->index[{ReadBE64(k.substr(1)), ReadBE64(k.substr(9))}] = kv.value;
      break;
    case 'N': {
      IntentRecord rec;
      if ((ok = DecodeRecord(kv.value, &rec))) scan->intents.push_back(std::move(rec));
      break;
    }
    case 'O':
      if ((ok = k.size() == 9)) scan->orphans.insert(ReadBE64(k.substr(1)));
      break;
    case 'R': {
      PreparedStep rec;
      if ((ok = k.size() == 17 && DecodeRecord(kv.value, &rec)))
        scan->prepared.push_back(std::move(rec));
      break;
    }
  }
  if (!ok) scan->corrupt.push_back(kv.key);
}

std::string Printable(std::string_view key) {
  std::string s;
  for (char c : key) {
    if (c >= 0x20 && c < 0x7f)
      s.push_back(c);
    else
      s += fmt::format("\\x{:02x}", static_cast<uint8_t>(c));
  }
  return s;
}

}  // namespace

Result<ClusterScan> LoadCluster(const ClusterConfig& config, FsckSource* source) {
  ClusterScan scan;
  for (const ServerInfo& s : config.servers) {
    ServerScan& out = scan[s.id];
    for (const char* prefix : kPrefixes) {
      FsckScanMetaReq req{.prefix = prefix, .max_bytes = kPageBytes};
      for (;;) {
        FsckScanMetaResp resp;
        if (Status st = source->ScanMeta(s.id, req, &resp); !st.ok()) return st;
        for (const KeyValue& kv : resp.records) AddRecord(&out, kv);
        if (resp.eof) break;
        if (resp.next <= req.start)  // a server that does not advance would loop forever
          return Status::Error(EIO, fmt::format("server {}: metadata scan did not advance", s.id));
        req.start = std::move(resp.next);
      }
    }
    FsckListChunksReq req{.max_entries = kPageChunks};
    for (;;) {
      FsckListChunksResp resp;
      if (Status st = source->ListChunks(s.id, req, &resp); !st.ok()) return st;
      out.chunks.insert(out.chunks.end(), resp.chunks.begin(), resp.chunks.end());
      if (resp.eof) break;
      if (std::pair(resp.next_ino, resp.next_index) <= std::pair(req.ino, req.index))
        return Status::Error(EIO, fmt::format("server {}: chunk listing did not advance", s.id));
      req.ino = resp.next_ino;
      req.index = resp.next_index;
    }
  }
  return scan;
}

Status StoreSource::ScanMeta(ServerId server, const FsckScanMetaReq& req, FsckScanMetaResp* resp) {
  resp->eof = (*stores_)[server].meta->ScanRaw(req.prefix, req.start, req.max_bytes, &resp->records,
                                               &resp->next);
  return Status::Ok();
}

Status StoreSource::ListChunks(ServerId server, const FsckListChunksReq& req,
                               FsckListChunksResp* resp) {
  resp->eof = (*stores_)[server].chunks->ListChunkPage(
      req.ino, req.index, req.max_entries, &resp->chunks, &resp->next_ino, &resp->next_index);
  return Status::Ok();
}

void Fsck::Problem(std::string text, std::string evidence, bool repaired) {
  report_.problems++;
  if (repaired) report_.repaired++;
  if (!options_.live) *out_ << text << (repaired ? "  [repaired]" : "") << "\n";
  report_.findings.push_back({std::move(text), std::move(evidence), repaired});
}

void Fsck::Commit(ServerId server, MetaStore::Batch* b) {
  if (Status s = (*stores_)[server].meta->Commit(b); !s.ok())
    *out_ << fmt::format("server {}: repair write failed: {}\n", server, s.ToString());
}

void Fsck::LoadInodes() {
  for (auto& [id, scan] : scan_) {
    for (const std::string& key : scan.corrupt)
      Problem(fmt::format("server {}: record {} does not decode", id, Printable(key)), key, false);
    for (const InodeRecord& rec : scan.inodes) {
      if (Holder(rec.attr.ino) != id) {
        Problem(fmt::format("server {}: holds inode {:#x} of server {}", id, rec.attr.ino,
                            HomeOf(rec.attr.ino)),
                Evidence(rec), false);
        continue;
      }
      inodes_[rec.attr.ino] = rec;
    }
    orphans_.insert(scan.orphans.begin(), scan.orphans.end());
    for (const IntentRecord& r : scan.intents) {
      report_.pending_intents++;
      uint64_t size = r.kind == static_cast<uint16_t>(IntentKind::kDropData) ? 0 : r.size;
      auto [it, inserted] = pending_.try_emplace(r.ino, size);
      if (!inserted) it->second = std::min(it->second, size);
      for (Ino ino : {r.ino, r.ino2, r.parent, r.parent2})
        if (ino != 0) in_flight_.insert(ino);
      if (!options_.live)
        *out_ << fmt::format("server {}: pending intent {:#x} (kind {}) on inode {:#x}{}\n", id,
                             r.id, r.kind, r.ino,
                             options_.repair ? "" : " — a running server finishes it");
    }
    std::set<uint64_t> txns;
    for (const PreparedStep& p : scan.prepared) {
      txns.insert(p.txn);
      for (Ino ino : {p.step.ino, p.step.parent, p.victim.ino})
        if (ino != 0) in_flight_.insert(ino);
    }
    report_.pending_intents += static_cast<int>(txns.size());
    if (!options_.live) {
      for (uint64_t txn : txns)
        *out_ << fmt::format(
            "server {}: steps prepared for operation {:#x} of server {} — a running server "
            "settles them\n",
            id, txn, HomeOf(txn));
    }
    if (options_.live && (!scan.intents.empty() || !txns.empty()))
      *out_ << fmt::format("server {}: {} operations in flight (pending intents)\n", id,
                           scan.intents.size() + txns.size());
  }
  Ino root = config_.RootIno();
  auto it = inodes_.find(root);
  if (it == inodes_.end() || !S_ISDIR(it->second.attr.mode))
    Problem(
        fmt::format("server {}: the root directory {:#x} is missing", config_.RootServer(), root),
        "", false);
}

void Fsck::CheckEntries() {
  for (auto& [id, scan] : scan_) {
    std::set<std::pair<Ino, uint64_t>> used;
    for (const ServerScan::Dentry& d : scan.dentries) {
      Link l{id, d.parent, d.name, d.value};
      std::string where = fmt::format("server {}: entry {:#x}/{}", id, l.parent, l.name);
      auto parent = inodes_.find(l.parent);
      auto target = inodes_.find(l.value.ino);
      bool bad_parent =
          Holder(l.parent) != id || parent == inodes_.end() || !S_ISDIR(parent->second.attr.mode);
      used.insert({l.parent, l.value.cookie});  // its index goes with it
      if (InFlight(l.parent) || InFlight(l.value.ino)) {
        if (target != inodes_.end()) links_.push_back(l);  // it still counts for its target
        continue;
      }
      if (bad_parent || target == inodes_.end()) {
        std::string why = bad_parent ? "is in a missing directory"
                                     : fmt::format("points at missing inode {:#x}", l.value.ino);
        MetaStore::Batch b;
        b.DeleteDentry(l.parent, l.name, l.value.cookie);
        if (options_.repair) Commit(id, &b);
        Problem(where + " " + why, Evidence(l.value), options_.repair);
        continue;
      }
      auto idx = scan.index.find({l.parent, l.value.cookie});
      bool type_ok = (l.value.mode & S_IFMT) == (target->second.attr.mode & S_IFMT);
      if (idx == scan.index.end() || idx->second != l.name || !type_ok) {
        std::string evidence = Evidence(l.value) + Evidence(target->second);
        l.value.mode = target->second.attr.mode;
        MetaStore::Batch b;
        b.PutDentry(l.parent, l.name, l.value);
        if (options_.repair) Commit(id, &b);
        Problem(where + (type_ok ? " has no readdir index" : " records the wrong file type"),
                evidence, options_.repair);
      }
      links_.push_back(l);
    }
    for (const auto& [key, name] : scan.index) {
      if (used.count(key) || InFlight(key.first)) continue;
      MetaStore::Batch b;
      b.DeleteCookieIndex(key.first, key.second);
      if (options_.repair) Commit(id, &b);
      Problem(fmt::format("server {}: readdir index {:#x}@{} ({}) has no entry", id, key.first,
                          key.second, name),
              name, options_.repair);
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
    if (InFlight(ino)) continue;
    Attr& a = rec.attr;
    const auto& refs = by_target[ino];
    if (ino != root && refs.empty()) {
      if (a.nlink == 0 && orphans_.count(ino)) {
        *out_ << fmt::format("server {}: inode {:#x} was unlinked while open and is still kept\n",
                             Holder(ino), ino);
        continue;
      }
      unreachable.push_back(ino);
      continue;
    }
    uint32_t expected = S_ISDIR(a.mode) ? 2 + subdirs[ino] : static_cast<uint32_t>(refs.size());
    bool parent_ok =
        !S_ISDIR(a.mode) || ino == root || (refs.size() == 1 && a.parent == refs[0]->parent);
    if (S_ISDIR(a.mode) && refs.size() > 1) {
      std::string names;
      for (const Link* l : refs) names += fmt::format(" {:#x}/{}", l->parent, l->name);
      Problem(fmt::format("directory {:#x} has {} entries:{}", ino, refs.size(), names),
              Evidence(rec), false);
    }
    if (a.nlink != expected || !parent_ok) {
      std::string what =
          fmt::format("server {}: inode {:#x} has link count {}, expected {}{}", Holder(ino), ino,
                      a.nlink, expected, parent_ok ? "" : " and a wrong parent");
      std::string evidence = Evidence(rec);
      a.nlink = expected;
      if (!parent_ok && refs.size() == 1) a.parent = refs[0]->parent;
      MetaStore::Batch b;
      b.PutInode(rec);
      if (options_.repair) Commit(Holder(ino), &b);
      Problem(what, evidence, options_.repair);
    }
  }
  for (Ino ino : unreachable) {
    std::string what =
        fmt::format("server {}: inode {:#x} is not reachable from the root", Holder(ino), ino);
    std::string evidence = Evidence(inodes_[ino]);
    if (!options_.repair) {
      Problem(what, evidence, false);
      continue;
    }
    Ino lf = LostAndFound();
    if (lf == 0) {
      Problem(what + " (cannot make /lost+found: not repaired)", evidence, false);
      continue;
    }
    // The entry goes to lost+found's server, the inode's changes to its own.
    InodeRecord& rec = inodes_[ino];
    InodeRecord& lf_rec = inodes_[lf];
    DentryValue d{.ino = ino, .mode = rec.attr.mode, .cookie = lf_rec.next_cookie++};
    if (S_ISDIR(rec.attr.mode)) {
      rec.attr.parent = lf;
      rec.attr.nlink = 2 + subdirs[ino];
      lf_rec.attr.nlink++;
    } else {
      rec.attr.nlink = 1;
    }
    MetaStore::Batch entry_batch;
    entry_batch.PutDentry(lf, fmt::format("{:016x}", ino), d);
    entry_batch.PutInode(lf_rec);
    Commit(Holder(lf), &entry_batch);
    MetaStore::Batch inode_batch;
    inode_batch.PutInode(rec);
    inode_batch.DeleteOrphan(ino);
    Commit(Holder(ino), &inode_batch);
    Problem(what + " -> moved to /lost+found", evidence, true);
  }
}

void Fsck::CheckChunks() {
  for (auto& [id, scan] : scan_) {
    std::map<Ino, uint64_t> cut;          // ino -> size to truncate to
    std::map<Ino, std::string> evidence;  // the inode's chunks here, and its record
    for (const ChunkInfo& c : scan.chunks) {
      auto p = pending_.find(c.ino);
      uint64_t start = c.index * config_.chunk_size;
      auto it = inodes_.find(c.ino);
      uint64_t size = it == inodes_.end() ? 0 : it->second.attr.size;
      evidence[c.ino] += Evidence(c);
      if (p != pending_.end() && start >= p->second) continue;  // an intent removes it
      if (it == inodes_.end() || start >= size) cut.try_emplace(c.ino, size);
    }
    for (auto& [ino, size] : cut) {
      auto it = inodes_.find(ino);
      if (options_.repair) (void)(*stores_)[id].chunks->Truncate(ino, size);
      Problem(fmt::format("server {}: chunks of inode {:#x} {}", id, ino,
                          it != inodes_.end() ? fmt::format("lie beyond its size {}", size)
                                              : std::string("belong to no inode")),
              evidence[ino] + (it != inodes_.end() ? Evidence(it->second) : ""), options_.repair);
    }
  }
}

void Fsck::FinishIntents() {
  for (auto& [id, scan] : scan_) {
    for (const IntentRecord& r : scan.intents) {
      // Prepared steps were settled before the scan: a finish intent has nothing left to do.
      if (r.kind != static_cast<uint16_t>(IntentKind::kFinishPeers)) {
        uint64_t size = r.kind == static_cast<uint16_t>(IntentKind::kDropData) ? 0 : r.size;
        for (auto& [other, os] : *stores_) (void)os.chunks->Truncate(r.ino, size);
      }
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
  if (options_.repair) FinishIntents();
  return report_;
}

void SettlePreparedSteps(const ClusterConfig& config, std::map<ServerId, ServerStores>* stores,
                         std::ostream* out) {
  for (auto& [id, st] : *stores) {
    std::map<uint64_t, std::vector<std::pair<uint64_t, PreparedStep>>> by_txn;
    st.meta->ScanPrepared(
        0, [&](uint64_t seq, const PreparedStep& p) { by_txn[p.txn].emplace_back(seq, p); });
    for (auto& [txn, steps] : by_txn) {
      // Committed exactly when the coordinator still has the operation's finish intent.
      auto coordinator = stores->find(config.HostOf(HomeOf(txn)));
      const bool commit =
          coordinator != stores->end() && coordinator->second.meta->GetIntent(txn).ok();
      std::vector<IntentRecord> intents;
      Status s = StepApplier(st.meta.get()).FinishAll(txn, steps, commit, &intents);
      *out << fmt::format("server {}: operation {:#x} of server {} settled: {}{}\n", id, txn,
                          HomeOf(txn), commit ? "committed" : "undone",
                          s.ok() ? "" : " — write failed: " + s.ToString());
    }
  }
}

void TakeStoredMembership(const std::map<ServerId, ServerStores>& stores, ClusterConfig* config) {
  for (const auto& [id, st] : stores) {
    Result<SignedMembership> stored = st.meta->GetMembership();
    if (!stored.ok()) continue;
    Result<ClusterConfig> m = ReadMembership(*stored, nullptr);
    if (m.ok() && m->version > config->version) {
      config->version = m->version;
      config->retired = m->retired;
    }
  }
}

Result<Fsck::Report> CheckStoppedCluster(const ClusterConfig& config,
                                         std::map<ServerId, ServerStores>* stores, bool repair,
                                         std::ostream* out) {
  if (repair) SettlePreparedSteps(config, stores, out);
  StoreSource source(stores);
  Result<ClusterScan> scan = LoadCluster(config, &source);
  if (!scan.ok()) return scan.status();
  return Fsck(config, std::move(*scan), stores, {.repair = repair}, out).Run();
}

}  // namespace sealfs
