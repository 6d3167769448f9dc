#include "server_core.h"

namespace sealfs {

ServerCore::ServerCore(const ClusterConfig& config, ServerId self, MetaStore* meta,
                       ChunkStore* chunks, std::chrono::milliseconds peer_timeout)
    : fanout(config, self, chunks, peer_timeout),
      intents(meta, &locks, &fanout),
      applier(meta),
      participant(meta, &locks, &applier, &intents),
      coordinator(meta, &intents, &fanout, self, config.RootServer()),
      placement(config),
      ns({.meta = meta,
          .locks = &locks,
          .intents = &intents,
          .applier = &applier,
          .coordinator = &coordinator,
          .participant = &participant,
          .placement = &placement},
         self) {
  // A prepared step is settled only once its coordinator has had time to
  // decide (a prepare and its reply each take at most one peer timeout).
  participant.StartResolver([this](uint64_t txn) { return coordinator.Ask(txn); },
                            2 * peer_timeout);
}

void ServerCore::Stop() {
  participant.Stop();
  intents.Stop();
}

}  // namespace sealfs
