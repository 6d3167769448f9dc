#include "membership_keeper.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace sealfs {

Result<StartingMembership> ChooseStartingMembership(const ClusterConfig& file,
                                                    const MetaStore& meta) {
  Result<SignedMembership> stored = meta.GetMembership();
  if (stored.err() == ENOENT) return StartingMembership{file, MakeMembership(file, nullptr)};
  if (!stored.ok()) return stored.status();
  // Checked when it was adopted; read again only for its contents.
  Result<ClusterConfig> config = ReadMembership(*stored, nullptr);
  if (!config.ok())
    return Status::Error(EIO, "the stored membership is unreadable: " + config.status().message());
  if (config->version < file.version)
    return StartingMembership{file, MakeMembership(file, nullptr)};
  if (config->version > file.version)
    spdlog::info(
        "membership version {} stored by an earlier run is newer than the cluster file's "
        "version {}: using it",
        config->version, file.version);
  config->secret_file = file.secret_file;
  return StartingMembership{std::move(*config), std::move(*stored)};
}

MembershipKeeper::MembershipKeeper(StartingMembership start, ServerId self, MetaStore* meta,
                                   const ClusterSecret* secret,
                                   std::chrono::milliseconds peer_timeout)
    : self_(self),
      meta_(meta),
      secret_(secret),
      view_(std::move(start.config), std::move(start.record),
            {.self = self,
             .timeout = peer_timeout,
             .verify_with = secret,
             .before_adopt = [this](const ClusterView::Members& m) { return BeforeAdopt(m); }}) {}

Status MembershipKeeper::BeforeAdopt(const ClusterView::Members& next) {
  if (!secret_)
    return Status::Error(EPERM,
                         "this server has no cluster secret (secret_file in the cluster "
                         "file): it takes no membership changes");
  const std::shared_ptr<const ClusterView::Members> current = view_.Current();
  const ClusterConfig& now = current->config;
  if (!next.config.Find(self_) && !next.config.Leaving(self_))
    return Status::Error(EINVAL, fmt::format("membership version {} does not list this server ({})",
                                             next.config.version, self_));
  if (now.Leaving(self_))
    return Status::Error(EINVAL, fmt::format("this server ({}) is being removed: it takes no "
                                             "membership after version {}",
                                             self_, now.version));
  if (next.config.root_server != now.root_server)
    return Status::Error(
        EINVAL, fmt::format("membership version {} moves the root directory from "
                            "server {} to {}",
                            next.config.version, now.root_server, next.config.root_server));
  if (migrator_ && migrator_->progress().active)
    return Status::Error(
        EBUSY, fmt::format("chunks are still moving for membership version {}", now.version));
  if (handoff_ && handoff_->progress().importing)
    return Status::Error(
        EBUSY, fmt::format("metadata is still moving for membership version {}", now.version));
  if (next.config.chunk_size != now.chunk_size)
    return Status::Error(
        EINVAL, fmt::format("membership version {} changes the chunk size", next.config.version));
  MetaStore::Batch b;
  b.PutMembership(next.record);
  if (Status s = meta_->Commit(&b); !s.ok()) return s;
  // Requests of the new version may come as soon as it is current.
  if (migrator_) migrator_->Prepare(next.config);
  if (handoff_) handoff_->Prepare(next.config);
  return Status::Ok();
}

Result<uint64_t> MembershipKeeper::Offer(const SignedMembership& m) {
  if (!secret_) return BeforeAdopt(*view_.Current());  // the error, whatever was offered
  Result<ClusterConfig> offered = ReadMembership(m, secret_);
  if (!offered.ok()) return offered.status();
  std::shared_ptr<const ClusterView::Members> now = view_.Current();
  if (offered->version == now->config.version && m.record != now->record.record)
    return Status::Error(EEXIST, fmt::format("membership version {} is already a different "
                                             "membership",
                                             offered->version));
  return view_.Adopt(m);
}

}  // namespace sealfs
