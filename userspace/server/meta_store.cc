#include "meta_store.h"

#include <fmt/format.h>

#include <algorithm>

namespace sealfs {
namespace {

constexpr uint64_t kAllocBlock = 4096;
// Memory bounds of the store, whatever the number of files.
constexpr size_t kBlockCacheBytes = 64 << 20;
constexpr size_t kWriteBufferBytes = 16 << 20;
constexpr char kCounterIno[] = "next_local";
constexpr char kCounterIntent[] = "next_intent";
constexpr char kIdentity[] = "server_id";
constexpr char kMembership[] = "membership";

void AppendBE64(std::string* s, uint64_t v) {
  for (int i = 7; i >= 0; --i) s->push_back(static_cast<char>((v >> (i * 8)) & 0xff));
}
uint64_t ReadBE64(std::string_view s) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}

std::string Key(char tag, uint64_t a) {
  std::string k(1, tag);
  AppendBE64(&k, a);
  return k;
}
std::string Key(char tag, uint64_t a, std::string_view name) {
  std::string k = Key(tag, a);
  k.append(name);
  return k;
}
std::string Key(char tag, uint64_t a, uint64_t b) {
  std::string k = Key(tag, a);
  AppendBE64(&k, b);
  return k;
}
std::string CounterKey(std::string_view name) { return std::string("M") + std::string(name); }

template <class M>
std::string EncodeValue(M m) {
  std::vector<uint8_t> v = Encode(m);
  return std::string(v.begin(), v.end());
}

template <class M>
Status DecodeValue(const std::string& raw, M* m, std::string_view what) {
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
  if (!Decode(bytes, m)) return Status::Error(EIO, fmt::format("corrupt {} record", what));
  return Status::Ok();
}

std::span<const uint8_t> AsBytes(const leveldb::Slice& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Status FromLevelDB(const leveldb::Status& s) {
  if (s.ok()) return Status::Ok();
  if (s.IsNotFound()) return Status::Error(ENOENT);
  // A full disk must reach the caller as ENOSPC, not as a generic I/O error.
  if (s.ToString().find("No space left") != std::string::npos)
    return Status::Error(ENOSPC, "leveldb: " + s.ToString());
  return Status::Error(EIO, "leveldb: " + s.ToString());
}

// Iterates keys with the given prefix, starting at `start` (>= prefix).
void ScanPrefix(leveldb::DB* db, const std::string& prefix, const std::string& start,
                const std::function<bool(const leveldb::Slice&, const leveldb::Slice&)>& fn) {
  leveldb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(ro));
  for (it->Seek(start); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (!fn(it->key(), it->value())) break;
  }
}

}  // namespace

void MetaStore::Batch::PutInode(const InodeRecord& rec) {
  changes_metadata_ = true;
  batch_.Put(Key('I', rec.attr.ino), EncodeValue(rec));
  changed_inodes_.push_back(rec.attr.ino);
}
void MetaStore::Batch::DeleteInode(Ino ino) {
  changes_metadata_ = true;
  batch_.Delete(Key('I', ino));
  changed_inodes_.push_back(ino);
}
void MetaStore::Batch::PutDentry(Ino parent, std::string_view name, const DentryValue& v) {
  changes_metadata_ = true;
  batch_.Put(Key('D', parent, name), EncodeValue(v));
  batch_.Put(Key('E', parent, v.cookie), std::string(name));
  changed_entries_.push_back(EntryName{parent, std::string(name)});
}
void MetaStore::Batch::DeleteDentry(Ino parent, std::string_view name, uint64_t cookie) {
  changes_metadata_ = true;
  batch_.Delete(Key('D', parent, name));
  changed_entries_.push_back(EntryName{parent, std::string(name)});
  batch_.Delete(Key('E', parent, cookie));
}
void MetaStore::Batch::DeleteCookieIndex(Ino parent, uint64_t cookie) {
  changes_metadata_ = true;
  batch_.Delete(Key('E', parent, cookie));
}
void MetaStore::Batch::PutXattr(Ino ino, std::string_view name, std::string_view value) {
  changes_metadata_ = true;
  batch_.Put(Key('X', ino, name), leveldb::Slice(value.data(), value.size()));
}
void MetaStore::Batch::DeleteXattr(Ino ino, std::string_view name) {
  changes_metadata_ = true;
  batch_.Delete(Key('X', ino, name));
}
void MetaStore::Batch::PutIntent(const IntentRecord& rec) {
  changes_metadata_ = true;
  batch_.Put(Key('N', rec.id), EncodeValue(rec));
}
void MetaStore::Batch::DeleteIntent(uint64_t id) {
  changes_metadata_ = true;
  batch_.Delete(Key('N', id));
}
void MetaStore::Batch::PutPrepared(uint64_t seq, const PreparedStep& rec) {
  changes_metadata_ = true;
  batch_.Put(Key('R', rec.txn, seq), EncodeValue(rec));
}
void MetaStore::Batch::DeletePrepared(uint64_t txn, uint64_t seq) {
  changes_metadata_ = true;
  batch_.Delete(Key('R', txn, seq));
}
void MetaStore::Batch::PutOrphan(Ino ino) {
  changes_metadata_ = true;
  batch_.Put(Key('O', ino), "");
}
void MetaStore::Batch::DeleteOrphan(Ino ino) {
  changes_metadata_ = true;
  batch_.Delete(Key('O', ino));
}
void MetaStore::Batch::PutCounter(std::string_view name, uint64_t value) {
  std::string v;
  AppendBE64(&v, value);
  batch_.Put(CounterKey(name), v);
}

void MetaStore::Batch::PutMembership(const SignedMembership& m) {
  SignedMembership copy = m;
  std::vector<uint8_t> v = Encode(copy);
  batch_.Put(CounterKey(kMembership),
             leveldb::Slice(reinterpret_cast<const char*>(v.data()), v.size()));
}

Result<std::unique_ptr<MetaStore>> MetaStore::Open(const std::string& dir, ServerId id) {
  std::unique_ptr<MetaStore> store(new MetaStore(id));
  store->cache_.reset(leveldb::NewLRUCache(kBlockCacheBytes));
  store->filter_.reset(leveldb::NewBloomFilterPolicy(10));
  leveldb::Options opts;
  opts.create_if_missing = true;
  opts.block_cache = store->cache_.get();
  opts.filter_policy = store->filter_.get();
  opts.write_buffer_size = kWriteBufferBytes;
  leveldb::DB* raw = nullptr;
  leveldb::Status s = leveldb::DB::Open(opts, dir, &raw);
  if (!s.ok())
    return Status::Error(EIO, fmt::format("cannot open metadata store {}: {}", dir, s.ToString()));
  store->db_.reset(raw);

  std::string ident;
  s = store->db_->Get(leveldb::ReadOptions(), CounterKey(kIdentity), &ident);
  if (s.IsNotFound()) {
    Batch b;
    b.PutCounter(kIdentity, id);
    if (Status st = store->Commit(&b); !st.ok()) return st;
  } else if (!s.ok()) {
    return FromLevelDB(s);
  } else if (ReadBE64(ident) != id) {
    return Status::Error(EINVAL, fmt::format("metadata store {} belongs to server {}, not {}", dir,
                                             ReadBE64(ident), id));
  }
  if (Status st = store->LoadCounters(); !st.ok()) return st;
  uint64_t count = 0;
  store->ScanInodes([&](const InodeRecord&) { ++count; });
  store->inode_count_ = count;
  return store;
}

Status MetaStore::LoadCounters() {
  auto load = [&](std::string_view name, std::atomic<uint64_t>* next,
                  uint64_t* reserved) -> Status {
    std::string v;
    leveldb::Status s = db_->Get(leveldb::ReadOptions(), CounterKey(name), &v);
    if (s.IsNotFound()) return Status::Ok();
    if (!s.ok()) return FromLevelDB(s);
    // Everything below the durable high-water mark may have been handed out.
    *next = ReadBE64(v);
    *reserved = ReadBE64(v);
    return Status::Ok();
  };
  if (Status s = load(kCounterIno, &next_local_, &reserved_local_); !s.ok()) return s;
  return load(kCounterIntent, &next_intent_, &reserved_intent_);
}

Result<uint64_t> MetaStore::Allocate(std::string_view counter, std::atomic<uint64_t>* next,
                                     uint64_t* reserved) {
  std::lock_guard lock(alloc_mu_);
  uint64_t v = next->load();
  if (v >= *reserved) {
    Batch b;
    b.PutCounter(counter, v + kAllocBlock);
    if (Status s = Commit(&b); !s.ok()) return s;
    *reserved = v + kAllocBlock;
  }
  *next = v + 1;
  return v;
}

Result<Ino> MetaStore::AllocateIno() {
  Result<uint64_t> local = Allocate(kCounterIno, &next_local_, &reserved_local_);
  if (!local.ok()) return local.status();
  if (*local > kLocalMask) return Status::Error(ENOSPC, "inode numbers exhausted");
  return MakeIno(id_, *local);
}

Result<uint64_t> MetaStore::AllocateIntentId() {
  Result<uint64_t> n = Allocate(kCounterIntent, &next_intent_, &reserved_intent_);
  if (!n.ok()) return n.status();
  return (uint64_t{id_} << kServerIdShift) | *n;
}

Result<InodeRecord> MetaStore::GetInode(Ino ino) const {
  AwaitImport(HomeOf(ino));
  std::string raw;
  if (Status s = FromLevelDB(db_->Get(leveldb::ReadOptions(), Key('I', ino), &raw)); !s.ok())
    return s;
  InodeRecord rec;
  if (Status s = DecodeValue(raw, &rec, "inode"); !s.ok()) return s;
  return rec;
}

Result<DentryValue> MetaStore::GetDentry(Ino parent, std::string_view name) const {
  AwaitImport(HomeOf(parent));
  std::string raw;
  if (Status s = FromLevelDB(db_->Get(leveldb::ReadOptions(), Key('D', parent, name), &raw));
      !s.ok())
    return s;
  DentryValue v;
  if (Status s = DecodeValue(raw, &v, "entry"); !s.ok()) return s;
  return v;
}

Result<std::string> MetaStore::GetXattr(Ino ino, std::string_view name) const {
  AwaitImport(HomeOf(ino));
  std::string raw;
  leveldb::Status s = db_->Get(leveldb::ReadOptions(), Key('X', ino, name), &raw);
  if (s.IsNotFound()) return Status::Error(ENODATA);
  if (!s.ok()) return FromLevelDB(s);
  return raw;
}

void MetaStore::ScanDentries(
    Ino parent, uint64_t from,
    const std::function<bool(std::string_view, const DentryValue&)>& fn) const {
  AwaitImport(HomeOf(parent));
  std::string prefix = Key('E', parent);
  ScanPrefix(db_.get(), prefix, Key('E', parent, from),
             [&](const leveldb::Slice&, const leveldb::Slice& v) {
               std::string name = v.ToString();
               Result<DentryValue> d = GetDentry(parent, name);
               if (!d.ok()) return true;  // index entry without a dentry: fsck reports it
               return fn(name, *d);
             });
}

bool MetaStore::DirectoryEmpty(Ino parent) const {
  AwaitImport(HomeOf(parent));
  bool empty = true;
  std::string prefix = Key('D', parent);
  ScanPrefix(db_.get(), prefix, prefix, [&](const leveldb::Slice&, const leveldb::Slice&) {
    empty = false;
    return false;
  });
  return empty;
}

void MetaStore::ScanXattrs(Ino ino, const std::function<void(std::string_view)>& fn) const {
  AwaitImport(HomeOf(ino));
  std::string prefix = Key('X', ino);
  ScanPrefix(db_.get(), prefix, prefix, [&](const leveldb::Slice& k, const leveldb::Slice&) {
    fn(std::string_view(k.data() + prefix.size(), k.size() - prefix.size()));
    return true;
  });
}

void MetaStore::DeleteAllXattrs(Ino ino, Batch* b) const {
  ScanXattrs(ino, [&](std::string_view name) { b->DeleteXattr(ino, name); });
}

void MetaStore::ScanInodes(const std::function<void(const InodeRecord&)>& fn) const {
  ScanPrefix(db_.get(), "I", "I", [&](const leveldb::Slice&, const leveldb::Slice& v) {
    InodeRecord rec;
    if (Decode(AsBytes(v), &rec)) fn(rec);
    return true;
  });
}

void MetaStore::ScanAllDentries(
    const std::function<void(Ino, std::string_view, const DentryValue&)>& fn) const {
  ScanPrefix(db_.get(), "D", "D", [&](const leveldb::Slice& k, const leveldb::Slice& v) {
    DentryValue d;
    if (k.size() < 9 || !Decode(AsBytes(v), &d)) return true;
    fn(ReadBE64(std::string_view(k.data() + 1, 8)), std::string_view(k.data() + 9, k.size() - 9),
       d);
    return true;
  });
}

void MetaStore::ScanCookieIndex(
    const std::function<void(Ino, uint64_t, std::string_view)>& fn) const {
  ScanPrefix(db_.get(), "E", "E", [&](const leveldb::Slice& k, const leveldb::Slice& v) {
    if (k.size() == 17)
      fn(ReadBE64(std::string_view(k.data() + 1, 8)), ReadBE64(std::string_view(k.data() + 9, 8)),
         std::string_view(v.data(), v.size()));
    return true;
  });
}

void MetaStore::ScanIntents(const std::function<void(const IntentRecord&)>& fn) const {
  AwaitImport(0);
  ScanPrefix(db_.get(), "N", "N", [&](const leveldb::Slice&, const leveldb::Slice& v) {
    IntentRecord rec;
    if (Decode(AsBytes(v), &rec)) fn(rec);
    return true;
  });
}

Result<IntentRecord> MetaStore::GetIntent(uint64_t id) const {
  AwaitImport(0);
  std::string raw;
  if (Status s = FromLevelDB(db_->Get(leveldb::ReadOptions(), Key('N', id), &raw)); !s.ok())
    return s;
  IntentRecord rec;
  if (Status s = DecodeValue(raw, &rec, "intent"); !s.ok()) return s;
  return rec;
}

void MetaStore::ScanPrepared(uint64_t txn,
                             const std::function<void(uint64_t, const PreparedStep&)>& fn) const {
  AwaitImport(0);
  std::string prefix = txn == 0 ? std::string("R") : Key('R', txn);
  ScanPrefix(db_.get(), prefix, prefix, [&](const leveldb::Slice& k, const leveldb::Slice& v) {
    PreparedStep rec;
    if (k.size() == 17 && Decode(AsBytes(v), &rec))
      fn(ReadBE64(std::string_view(k.data() + 9, 8)), rec);
    return true;
  });
}

void MetaStore::ScanOrphans(const std::function<void(Ino)>& fn) const {
  ScanPrefix(db_.get(), "O", "O", [&](const leveldb::Slice& k, const leveldb::Slice&) {
    if (k.size() == 9) fn(ReadBE64(std::string_view(k.data() + 1, 8)));
    return true;
  });
}

bool MetaStore::ScanRaw(std::string_view prefix, std::string_view start, size_t max_bytes,
                        std::vector<KeyValue>* out, std::string* next) const {
  std::string from = std::max(std::string(prefix), std::string(start));
  size_t bytes = 0, count = 0;
  bool eof = true;
  ScanPrefix(db_.get(), std::string(prefix), from,
             [&](const leveldb::Slice& k, const leveldb::Slice& v) {
               size_t size = 8 + k.size() + v.size();  // as encoded in a reply
               if (count > 0 && bytes + size > max_bytes) {
                 *next = k.ToString();
                 eof = false;
                 return false;
               }
               bytes += size;
               ++count;
               out->push_back({k.ToString(), v.ToString()});
               return true;
             });
  return eof;
}

Status MetaStore::Commit(Batch* b) {
  {
    std::shared_lock freeze(freeze_mu_);
    if (frozen_ && b->changes_metadata())
      return Status::Error(ERESTART, fmt::format("server {} has handed its metadata over", id_));
    leveldb::WriteOptions wo;
    wo.sync = true;
    if (Status s = FromLevelDB(db_->Write(wo, b->raw())); !s.ok()) return s;
  }
  if (observer_) observer_(*b);
  return Status::Ok();
}

void MetaStore::Freeze() {
  std::unique_lock freeze(freeze_mu_);
  frozen_ = true;
}

void MetaStore::BeginImport(std::set<ServerId> homes) {
  std::lock_guard lock(import_mu_);
  import_homes_.insert(homes.begin(), homes.end());
  importing_ = !import_homes_.empty();
}

void MetaStore::EndImport() {
  {
    std::lock_guard lock(import_mu_);
    import_homes_.clear();
    importing_ = false;
  }
  import_cv_.notify_all();
}

void MetaStore::AwaitImport(ServerId home) const {
  if (!importing_.load()) return;
  std::unique_lock lock(import_mu_);
  import_cv_.wait(
      lock, [&] { return import_homes_.empty() || (home != 0 && import_homes_.count(home) == 0); });
}

bool MetaStore::ScanMetadata(std::string_view start, size_t max_bytes, std::vector<KeyValue>* out,
                             std::string* next) const {
  leveldb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ro));
  size_t bytes = 0;
  it->Seek(leveldb::Slice(start.data(), start.size()));
  while (it->Valid()) {
    if (it->key().starts_with("M")) {  // the counters: this server's own
      it->Seek("N");
      continue;
    }
    const size_t size = 8 + it->key().size() + it->value().size();  // as encoded in a reply
    if (!out->empty() && bytes + size > max_bytes) {
      *next = it->key().ToString();
      return false;
    }
    bytes += size;
    out->push_back({it->key().ToString(), it->value().ToString()});
    it->Next();
  }
  return true;
}

Status MetaStore::CommitImported(std::span<const KeyValue> records, ServerId source) {
  Batch b;
  int64_t new_inodes = 0;
  for (const KeyValue& kv : records) {
    if (kv.key.empty() || kv.key[0] == 'M')
      return Status::Error(EINVAL, "an imported page holds a counter");
    std::string key = kv.key;
    if (key[0] == 'R' && key.size() == 17) {
      // Steps prepared there keep their number's low bits, tagged with the
      // server they were prepared on (once: a step moved before keeps its tag).
      uint64_t seq = ReadBE64(std::string_view(key).substr(9));
      if (seq >> 32 == 0) seq |= uint64_t{source} << kServerIdShift;
      key.resize(9);
      AppendBE64(&key, seq);
    }
    if (key[0] == 'I') {
      std::string existing;
      if (db_->Get(leveldb::ReadOptions(), key, &existing).IsNotFound()) ++new_inodes;
    }
    b.raw()->Put(key, kv.value);
  }
  leveldb::WriteOptions wo;
  wo.sync = true;
  if (Status s = FromLevelDB(db_->Write(wo, b.raw())); !s.ok()) return s;
  inode_count_ += new_inodes;
  return Status::Ok();
}

Result<uint64_t> MetaStore::GetCounter(std::string_view name) const {
  std::string v;
  if (Status s = FromLevelDB(db_->Get(leveldb::ReadOptions(), CounterKey(name), &v)); !s.ok())
    return s;
  if (v.size() != 8) return Status::Error(EIO, "counter " + std::string(name) + " is malformed");
  return ReadBE64(v);
}

void MetaStore::Batch::DeleteCounter(std::string_view name) { batch_.Delete(CounterKey(name)); }

void MetaStore::ScanCounters(std::string_view prefix,
                             const std::function<void(std::string_view, uint64_t)>& fn) const {
  const std::string key_prefix = CounterKey(prefix);
  ScanPrefix(db_.get(), key_prefix, key_prefix,
             [&](const leveldb::Slice& k, const leveldb::Slice& v) {
               if (v.size() == 8)
                 fn(std::string_view(k.data() + 1, k.size() - 1), ReadBE64(v.ToString()));
               return true;
             });
}

Result<SignedMembership> MetaStore::GetMembership() const {
  std::string v;
  if (Status s = FromLevelDB(db_->Get(leveldb::ReadOptions(), CounterKey(kMembership), &v));
      !s.ok())
    return s;
  SignedMembership m;
  if (!Decode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()), v.size()), &m))
    return Status::Error(EIO, "the stored membership record is malformed");
  return m;
}

}  // namespace sealfs
