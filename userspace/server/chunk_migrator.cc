#include "chunk_migrator.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace sealfs {
namespace {

constexpr char kDone[] = "migration-done";           // the last version migrated to
constexpr char kFloorPrefix[] = "migration-floor/";  // + inode: smallest truncate
constexpr char kCursorPrefix[] = "migration-cursor/";
constexpr char kPaused[] = "migration-paused";
constexpr char kRate[] = "migration-rate";  // + source + /ino, /index, /done
constexpr uint32_t kPullBytes = 1u << 20;
constexpr uint32_t kListPage = 256;
constexpr uint32_t kMaxListPage = 4096;
constexpr auto kRetryPause = std::chrono::seconds(1);

std::string FloorName(Ino ino) { return fmt::format("{}{:016x}", kFloorPrefix, ino); }
std::string CursorName(ServerId source, const char* what) {
  return fmt::format("{}{}/{}", kCursorPrefix, source, what);
}

}  // namespace

struct ChunkMigrator::Plan {
  Plan(const ClusterConfig& c)
      : version(c.version),
        from(c.moving_from, c.chunk_size, c.version),
        to(c),
        chunk_size(c.chunk_size) {
    for (const ServerInfo& s : c.moving_from) sources.push_back(s.id);
  }
  uint64_t version;
  Placement from, to;
  uint64_t chunk_size;
  std::vector<ServerId> sources;
};

ChunkMigrator::ChunkMigrator(ServerId self, MetaStore* meta, ChunkStore* chunks, ClusterView* view)
    : self_(self), meta_(meta), chunks_(chunks), view_(view) {
  paused_ = meta_->GetCounter(kPaused).ok() && *meta_->GetCounter(kPaused) != 0;
  rate_ = meta_->GetCounter(kRate).ok() ? *meta_->GetCounter(kRate) : 0;
}

Status ChunkMigrator::SetControl(bool paused, uint64_t rate) {
  MetaStore::Batch b;
  b.PutCounter(kPaused, paused);
  b.PutCounter(kRate, rate);
  if (Status s = meta_->Commit(&b); !s.ok()) return s;
  {
    std::lock_guard lock(mu_);
    paused_ = paused;
    rate_ = rate;
    paced_until_ = std::chrono::steady_clock::now();
  }
  wake_.notify_all();
  spdlog::info("background chunk migration {}{}", paused ? "paused" : "running",
               rate ? fmt::format(", at most {} bytes/s", rate) : "");
  return Status::Ok();
}

bool ChunkMigrator::Pace(const Plan& plan, uint64_t bytes) {
  std::unique_lock lock(mu_);
  for (;;) {
    if (stop_ || plan_.get() != &plan) return false;
    auto now = std::chrono::steady_clock::now();
    if (paused_) {
      wake_.wait(lock);
      continue;
    }
    if (rate_ == 0) return true;
    if (paced_until_ < now) paced_until_ = now;
    if (paced_until_ - now > std::chrono::milliseconds(1)) {
      wake_.wait_until(lock, paced_until_);
      continue;
    }
    paced_until_ += std::chrono::nanoseconds(bytes * 1'000'000'000 / rate_);
    return true;
  }
}

void ChunkMigrator::Prepare(const ClusterConfig& config) {
  if (config.moving_from.empty() || !config.Find(self_)) return;  // nothing, or leaving
  if (Result<uint64_t> done = meta_->GetCounter(kDone); done.ok() && *done >= config.version)
    return;
  auto plan = std::make_shared<const Plan>(config);
  std::lock_guard lock(mu_);
  if (plan_ && plan_->version == plan->version) return;
  plan_ = plan;
  here_.clear();
  floors_.clear();
  meta_->ScanCounters(kFloorPrefix, [this](std::string_view name, uint64_t size) {
    floors_[std::stoull(std::string(name.substr(sizeof kFloorPrefix - 1)), nullptr, 16)] = size;
  });
}

void ChunkMigrator::Start() {
  std::shared_ptr<const Plan> plan;
  std::thread finished;
  {
    std::lock_guard lock(mu_);
    if (!plan_ || stop_ || started_ == plan_->version) return;
    plan = plan_;
    started_ = plan->version;
    finished.swap(thread_);  // a migration of an older version, done
  }
  if (finished.joinable()) finished.join();
  spdlog::info("moving chunks for membership version {} from {} servers", plan->version,
               plan->sources.size());
  std::lock_guard lock(mu_);
  thread_ = std::thread([this, plan] { Run(plan); });
}

void ChunkMigrator::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

ChunkMigrator::Progress ChunkMigrator::progress() const {
  std::lock_guard lock(mu_);
  return {.active = plan_ != nullptr,
          .version = plan_ ? plan_->version : 0,
          .pulled_chunks = pulled_chunks_,
          .pulled_bytes = pulled_bytes_,
          .paused = paused_,
          .rate = rate_};
}

Status ChunkMigrator::EnsureHere(Ino ino, uint64_t chunk) {
  std::shared_ptr<const Plan> plan;
  {
    std::lock_guard lock(mu_);
    if (!plan_ || here_.count({ino, chunk})) return Status::Ok();
    plan = plan_;
  }
  const ServerId source = plan->from.ChunkServer(ino, chunk);
  if (source == self_) return Status::Ok();
  StripeLocks::Guard guard(&locks_, {ino});
  return PullLocked(*plan, source, ino, chunk);
}

Status ChunkMigrator::PullLocked(const Plan& plan, ServerId source, Ino ino, uint64_t chunk) {
  {
    std::lock_guard lock(mu_);
    if (here_.count({ino, chunk})) return Status::Ok();
  }
  RpcChannel* channel = view_->Channel(source);
  if (!channel) return Status::Error(EIO, fmt::format("no channel to server {}", source));
  std::string bytes;
  bool exists = true;
  for (;;) {
    MigratePullReq req{.ino = ino, .index = chunk, .offset = bytes.size(), .length = kPullBytes};
    MigratePullResp resp;
    if (Status s = channel->Call(Op::kMigratePull, req, &resp, true); !s.ok()) return s;
    if (!resp.exists) {
      exists = false;
      break;
    }
    bytes += resp.data;
    if (resp.data.empty() || bytes.size() >= resp.size) break;
  }
  if (exists) {
    // Bytes a truncate since the change removed must not come back.
    uint64_t floor = UINT64_MAX;
    {
      std::lock_guard lock(mu_);
      if (auto it = floors_.find(ino); it != floors_.end()) floor = it->second;
    }
    const uint64_t start = chunk * plan.chunk_size;
    if (floor <= start)
      bytes.clear();
    else if (floor - start < bytes.size())
      bytes.resize(floor - start);
    if (floor > start) {
      if (Status s = chunks_->Replace(ino, chunk, bytes); !s.ok()) return s;
    }
    ChunkRef ref{ino, chunk};
    Empty resp;
    if (Status s = channel->Call(Op::kMigrateDrop, ref, &resp, true); !s.ok()) return s;
    ++pulled_chunks_;
    pulled_bytes_ += bytes.size();
  }
  std::lock_guard lock(mu_);
  here_.insert({ino, chunk});
  return Status::Ok();
}

Result<int64_t> ChunkMigrator::Truncate(Ino ino, uint64_t size) {
  StripeLocks::Guard guard(&locks_, {ino});
  bool record = false;
  {
    std::lock_guard lock(mu_);
    if (plan_) {
      auto [it, added] = floors_.emplace(ino, size);
      record = added || size < it->second;
      it->second = std::min(it->second, size);
    }
  }
  if (record) {
    MetaStore::Batch b;
    b.PutCounter(FloorName(ino), size);
    if (Status s = meta_->Commit(&b); !s.ok()) return s;
  }
  return chunks_->Truncate(ino, size);
}

void ChunkMigrator::Run(std::shared_ptr<const Plan> plan) {
  for (ServerId source : plan->sources) {
    if (source != self_ && !PullAllFrom(*plan, source)) return;
  }
  for (;;) {
    Status s = Finish(*plan);
    if (s.ok()) return;
    spdlog::warn("cannot record the end of the migration: {}", s.ToString());
    std::unique_lock lock(mu_);
    if (wake_.wait_for(lock, kRetryPause, [this] { return stop_; })) return;
  }
}

bool ChunkMigrator::PullAllFrom(const Plan& plan, ServerId source) {
  if (meta_->GetCounter(CursorName(source, "done")).ok()) return true;
  Ino ino = meta_->GetCounter(CursorName(source, "ino")).ok()
                ? *meta_->GetCounter(CursorName(source, "ino"))
                : 0;
  uint64_t index = meta_->GetCounter(CursorName(source, "index")).ok()
                       ? *meta_->GetCounter(CursorName(source, "index"))
                       : 0;
  auto pause = [this] {
    std::unique_lock lock(mu_);
    return !wake_.wait_for(lock, kRetryPause, [this] { return stop_; });
  };
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stop_ || plan_.get() != &plan) return false;  // stopping, or superseded
    }
    RpcChannel* channel = view_->Channel(source);
    MigrateListReq req{.owner = self_, .ino = ino, .index = index, .max_entries = kListPage};
    FsckListChunksResp page;
    Status s = channel ? channel->Call(Op::kMigrateList, req, &page, true)
                       : Status::Error(EIO, fmt::format("no channel to server {}", source));
    for (size_t i = 0; s.ok() && i < page.chunks.size(); ++i) {
      if (!Pace(plan, page.chunks[i].size)) return false;
      StripeLocks::Guard guard(&locks_, {page.chunks[i].ino});
      s = PullLocked(plan, source, page.chunks[i].ino, page.chunks[i].index);
    }
    if (!s.ok()) {
      spdlog::warn("moving chunks from server {}: {}; trying again", source, s.ToString());
      if (!pause()) return false;
      continue;
    }
    MetaStore::Batch b;
    if (page.eof) {
      b.PutCounter(CursorName(source, "done"), 1);
    } else {
      b.PutCounter(CursorName(source, "ino"), page.next_ino);
      b.PutCounter(CursorName(source, "index"), page.next_index);
    }
    if (Status c = meta_->Commit(&b); !c.ok()) {
      spdlog::warn("cannot record migration progress: {}", c.ToString());
      if (!pause()) return false;
      continue;
    }
    if (page.eof) return true;
    ino = page.next_ino;
    index = page.next_index;
  }
}

Status ChunkMigrator::Finish(const Plan& plan) {
  MetaStore::Batch b;
  b.PutCounter(kDone, plan.version);
  meta_->ScanCounters(kFloorPrefix,
                      [&b](std::string_view name, uint64_t) { b.DeleteCounter(name); });
  meta_->ScanCounters(kCursorPrefix,
                      [&b](std::string_view name, uint64_t) { b.DeleteCounter(name); });
  if (Status s = meta_->Commit(&b); !s.ok()) return s;
  {
    std::lock_guard lock(mu_);
    if (plan_ && plan_->version == plan.version) plan_ = nullptr;
    here_.clear();
    floors_.clear();
  }
  spdlog::info("all chunks moved here for membership version {} ({} chunks, {} bytes pulled)",
               plan.version, pulled_chunks_.load(), pulled_bytes_.load());
  return Status::Ok();
}

Status ChunkMigrator::List(const MigrateListReq& req, FsckListChunksResp* resp) const {
  std::shared_ptr<const ClusterView::Members> m = view_->Current();
  std::vector<ChunkInfo> page;
  resp->eof = chunks_->ListChunkPage(req.ino, req.index,
                                     std::clamp<uint32_t>(req.max_entries, 1, kMaxListPage), &page,
                                     &resp->next_ino, &resp->next_index);
  for (const ChunkInfo& c : page) {
    if (m->placement.ChunkServer(c.ino, c.index) == req.owner) resp->chunks.push_back(c);
  }
  return Status::Ok();
}

Status ChunkMigrator::Pull(const MigratePullReq& req, MigratePullResp* resp) const {
  Result<uint64_t> length = chunks_->Length(req.ino, req.index);
  if (length.err() == ENOENT) return Status::Ok();  // exists = 0
  if (!length.ok()) return length.status();
  resp->exists = 1;
  resp->size = *length;
  if (req.offset >= *length) return Status::Ok();
  resp->data.resize(std::min<uint64_t>({req.length, kPullBytes, *length - req.offset}));
  Result<size_t> n =
      chunks_->Read(req.ino, req.index, static_cast<uint32_t>(req.offset),
                    std::span(reinterpret_cast<uint8_t*>(resp->data.data()), resp->data.size()));
  if (!n.ok()) return n.status();
  resp->data.resize(*n);
  return Status::Ok();
}

Status ChunkMigrator::Drop(const ChunkRef& ref) {
  if (view_->Current()->placement.ChunkServer(ref.ino, ref.index) == self_)
    return Status::Error(EINVAL, "MIGRATE_DROP of a chunk that belongs here");
  return chunks_->Remove(ref.ino, ref.index);
}

}  // namespace sealfs
