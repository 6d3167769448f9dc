#include "metadata_handoff.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

namespace sealfs {
namespace {

constexpr char kImportedPrefix[] = "metadata-imported/";  // + source: the version copied for
constexpr char kHandedOver[] = "metadata-handed-over";    // the version it was handed over for
constexpr size_t kPageBytes = 1u << 20;
constexpr auto kRetryPause = std::chrono::milliseconds(250);
constexpr int kDoneTries = 3;

std::string ImportedName(ServerId source) { return fmt::format("{}{}", kImportedPrefix, source); }

}  // namespace

MetadataHandoff::MetadataHandoff(ServerId self, MetaStore* meta, ClusterView* view)
    : self_(self), meta_(meta), view_(view) {}

void MetadataHandoff::Prepare(const ClusterConfig& config) {
  if (config.Leaving(self_)) {
    meta_->Freeze();
    std::lock_guard lock(mu_);
    if (leaving_version_ == 0) {
      leaving_version_ = config.version;
      spdlog::info("membership version {} removes this server: its metadata goes to its heir",
                   config.version);
    }
    return;
  }
  Plan plan{.version = config.version};
  std::set<ServerId> homes;
  for (const RetiredServer& r : config.retired) {
    if (r.host != self_ || r.from == 0) continue;
    if (Result<uint64_t> done = meta_->GetCounter(ImportedName(r.from));
        done.ok() && *done >= config.version)
      continue;
    plan.sources.insert(r.from);
    homes.insert(r.id);
  }
  if (plan.sources.empty()) return;
  std::lock_guard lock(mu_);
  if (plan_ && plan_->version == plan.version) return;
  meta_->BeginImport(homes);
  plan_ = std::make_unique<Plan>(std::move(plan));
  started_ = false;
}

void MetadataHandoff::Start() {
  std::thread finished;
  Plan plan;
  {
    std::lock_guard lock(mu_);
    if (!plan_ || started_ || stop_) return;
    started_ = true;
    plan = *plan_;
    finished.swap(thread_);  // a copy of an older version, done
  }
  if (finished.joinable()) finished.join();
  std::lock_guard lock(mu_);
  thread_ = std::thread([this, plan] { Run(plan); });
}

void MetadataHandoff::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool MetadataHandoff::Pause() {
  std::unique_lock lock(mu_);
  return !wake_.wait_for(lock, kRetryPause, [this] { return stop_; });
}

void MetadataHandoff::Run(Plan plan) {
  spdlog::info("copying the metadata of server(s) {} here for membership version {}",
               fmt::join(plan.sources, ", "), plan.version);
  for (ServerId source : plan.sources) {
    if (!CopyFrom(plan, source)) return;
  }
  {
    std::lock_guard lock(mu_);
    plan_.reset();
  }
  meta_->EndImport();
  if (hooks_.after_import) hooks_.after_import();
  spdlog::info("the metadata of server(s) {} is here ({} inodes held now)",
               fmt::join(plan.sources, ", "), meta_->inode_count());
}

bool MetadataHandoff::CopyFrom(const Plan& plan, ServerId source) {
  std::string start;
  uint64_t records = 0;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stop_) return false;
    }
    RpcChannel* channel = view_->Channel(source);
    MigrateMetaReq req{start};
    FsckScanMetaResp page;
    Status s = channel ? channel->Call(Op::kMigrateMeta, req, &page, true)
                       : Status::Error(EIO, fmt::format("no channel to server {}", source));
    if (s.ok()) s = meta_->CommitImported(page.records, source);
    if (!s.ok()) {
      if (s.err() == EAGAIN)
        spdlog::debug("server {} is not ready to hand its metadata over yet", source);
      else
        spdlog::warn("copying the metadata of server {}: {}; trying again", source, s.ToString());
      if (!Pause()) return false;
      continue;
    }
    records += page.records.size();
    if (page.eof) break;
    start = page.next;
  }
  for (;;) {
    MetaStore::Batch b;
    b.PutCounter(ImportedName(source), plan.version);
    Status s = meta_->Commit(&b);
    if (s.ok()) break;
    spdlog::warn("cannot record the copy of server {}'s metadata: {}", source, s.ToString());
    if (!Pause()) return false;
  }
  spdlog::info("{} metadata records of server {} copied here", records, source);
  MembershipVersion done{plan.version};
  Empty ack;
  for (int attempt = 1; attempt <= kDoneTries; ++attempt) {
    RpcChannel* channel = view_->Channel(source);
    Status s = channel ? channel->Call(Op::kMigrateMetaDone, done, &ack, true)
                       : Status::Error(EIO, fmt::format("no channel to server {}", source));
    if (s.ok()) break;
    spdlog::warn("server {} was not told that its metadata is here: {}", source, s.ToString());
    if (attempt == kDoneTries || !Pause()) break;
  }
  return true;
}

Status MetadataHandoff::Export(const MigrateMetaReq& req, FsckScanMetaResp* resp) {
  bool leave_now = false;
  {
    std::lock_guard lock(mu_);
    if (leaving_version_ == 0)
      return Status::Error(EINVAL, fmt::format("server {} is not leaving the cluster", self_));
    if (!left_) {
      left_ = true;
      leave_now = true;
      ready_at_ = Clock::time_point::max();
    }
  }
  if (leave_now) {
    const Clock::time_point expires = hooks_.on_leave ? hooks_.on_leave() : Clock::now();
    if (hooks_.quiesce) hooks_.quiesce();
    std::lock_guard lock(mu_);
    ready_at_ = expires;
  }
  {
    std::lock_guard lock(mu_);
    if (Clock::now() < ready_at_)
      return Status::Error(EAGAIN, "clients may still answer from what they cached here");
  }
  resp->eof = meta_->ScanMetadata(req.start, kPageBytes, &resp->records, &resp->next);
  return Status::Ok();
}

Status MetadataHandoff::Exported(uint64_t version) {
  {
    std::lock_guard lock(mu_);
    if (leaving_version_ == 0 || version < leaving_version_)
      return Status::Error(EINVAL, fmt::format("server {} is not leaving for membership version {}",
                                               self_, version));
  }
  MetaStore::Batch b;
  b.PutCounter(kHandedOver, version);
  if (Status s = meta_->Commit(&b); !s.ok()) return s;
  spdlog::info("the heir holds this server's metadata now (membership version {})", version);
  return Status::Ok();
}

MetadataHandoff::Progress MetadataHandoff::progress() const {
  std::lock_guard lock(mu_);
  Progress p{.leaving = leaving_version_ != 0, .importing = plan_ != nullptr};
  if (p.leaving) {
    Result<uint64_t> handed = meta_->GetCounter(kHandedOver);
    p.handed_over = handed.ok() && *handed >= leaving_version_;
  }
  return p;
}

}  // namespace sealfs
