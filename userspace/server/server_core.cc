#include "server_core.h"

namespace sealfs {

ServerCore::ServerCore(StartingMembership start, ServerId self, MetaStore* meta, ChunkStore* chunks,
                       std::chrono::milliseconds peer_timeout, const ClusterSecret* secret,
                       std::function<MetadataHandoff::Clock::time_point()> on_leave)
    : membership(std::move(start), self, meta, secret, peer_timeout),
      migrator(self, meta, chunks, &membership.view()),
      handoff(self, meta, &membership.view()),
      fanout(&membership.view(), self, &migrator),
      intents(meta, &locks, &fanout),
      applier(meta),
      participant(meta, &locks, &applier, &intents),
      coordinator(meta, &intents, &fanout, self, membership.view().Current()->config.RootServer()),
      ns({.meta = meta,
          .locks = &locks,
          .intents = &intents,
          .applier = &applier,
          .coordinator = &coordinator,
          .participant = &participant,
          .view = &membership.view()},
         self) {
  // Prepared steps older than a second are settled with their coordinator's
  // answer (an operation it is still running is left alone).
  participant.StartResolver([this](uint64_t txn) { return coordinator.Ask(txn); },
                            std::chrono::seconds(1));
  handoff.set_hooks({.on_leave = std::move(on_leave),
                     .quiesce = [this] { intents.WaitIdle(); },
                     .after_import =
                         [this] {
                           participant.TrackStored();
                           intents.Kick();
                         }});
  membership.set_movers(&migrator, &handoff);
  membership.view().set_after_adopt([this] {
    migrator.Start();
    handoff.Start();
  });
  const ClusterConfig& config = membership.view().Current()->config;
  migrator.Prepare(config);
  handoff.Prepare(config);
  migrator.Start();
  handoff.Start();
}

void ServerCore::Stop() {
  handoff.Stop();
  migrator.Stop();
  participant.Stop();
  intents.Stop();
}

}  // namespace sealfs
