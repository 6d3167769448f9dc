#include "apply.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <map>
#include <set>

#include "admin_call.h"
#include "cluster_config.h"
#include "cluster_secret.h"
#include "member_survey.h"
#include "membership.h"
#include "migration_progress.h"

namespace sealfs {
namespace {

std::set<ServerId> Ids(const ClusterConfig& c) {
  std::set<ServerId> ids;
  for (const ServerInfo& s : c.servers) ids.insert(s.id);
  return ids;
}

// Why `next` cannot follow `now`, or OK.
Status CheckChange(const ClusterConfig& now, const ClusterConfig& next) {
  if (next.root_server != now.root_server)
    return Status::Error(EINVAL, fmt::format("root_server is {} but the root directory lives on "
                                             "server {}; it cannot move",
                                             next.root_server, now.root_server));
  if (next.chunk_size != now.chunk_size)
    return Status::Error(EINVAL, fmt::format("chunk_size is {} but the cluster's data is cut in "
                                             "chunks of {}; it cannot change",
                                             next.chunk_size, now.chunk_size));
  for (const RetiredServer& r : now.retired) {
    if (next.Find(r.id))
      return Status::Error(EINVAL, fmt::format("server id {} was removed from this cluster; ids "
                                               "are never used again",
                                               r.id));
  }
  return Status::Ok();
}

// The servers `now` has and `next` drops.
std::vector<ServerInfo> Removed(const ClusterConfig& now, const ClusterConfig& next) {
  std::vector<ServerInfo> removed;
  for (const ServerInfo& s : now.servers)
    if (!next.Find(s.id)) removed.push_back(s);
  return removed;
}

// The member of both memberships holding the fewest inodes (the lowest id
// of those): it takes over the metadata of a removed server.
ServerId ChooseHeir(const ClusterConfig& now, const std::vector<MemberReport>& reports) {
  const MemberReport* best = nullptr;
  for (const MemberReport& r : reports) {
    if (!now.Find(r.server.id)) continue;
    if (!best || r.status.inodes < best->status.inodes) best = &r;
  }
  return best ? best->server.id : 0;
}

// `next`'s retired servers: those of `now`, and each of `removed` with its
// heir; the records a removed server holds (its own, and those it took over
// earlier) move to its heir.
std::vector<RetiredServer> Retire(const ClusterConfig& now,
                                  const std::vector<std::pair<ServerId, ServerId>>& heirs) {
  std::map<ServerId, RetiredServer> retired;
  for (RetiredServer r : now.retired) {
    r.from = 0;
    retired[r.id] = r;
  }
  for (const auto& [removed, heir] : heirs) {
    for (auto& [id, r] : retired) {
      if (r.host == removed) r = {.id = id, .host = heir, .from = removed};
    }
    retired[removed] = {.id = removed, .host = heir, .from = removed};
  }
  std::vector<RetiredServer> out;
  for (const auto& [id, r] : retired) out.push_back(r);
  return out;
}

// The two memberships list the same servers, the same way.
bool SameMembers(const ClusterConfig& a, const ClusterConfig& b) {
  return a.servers == b.servers && a.root_server == b.root_server && a.chunk_size == b.chunk_size;
}

// Follows the migration to `target` to its end.
int Wait(const ApplyOptions& options, const ClusterConfig& target, std::ostream& out,
         std::ostream& err) {
  fmt::print(out, "moving chunks to their new servers (the file system stays usable):\n");
  std::vector<ServerInfo> leaving;
  for (const ServerInfo& s : target.moving_from) {
    if (target.Leaving(s.id)) leaving.push_back(s);
  }
  if (!WaitForMigration(target.servers, leaving, options.timeout, options.tty, out)) {
    fmt::print(err,
               "sealfs-loader apply: no server answered for minutes; the servers go on "
               "moving chunks (sealfs-loader status shows how far they are)\n");
    return 1;
  }
  fmt::print(out, "every chunk is where membership version {} places it\n", target.version);
  // Every server has pulled what the leaving ones held; those that answer
  // confirm it.
  int holding = 0;
  for (const MemberReport& r : SurveyMembers(leaving, options.timeout)) {
    if (r.reached.ok() && (r.status.chunks > 0 || !r.status.metadata_handed_over)) {
      ++holding;
      fmt::print(err, "sealfs-loader apply: server {} still holds {} chunks{}; do not stop it\n",
                 r.server.id, r.status.chunks,
                 r.status.metadata_handed_over ? "" : " and has not handed its metadata over");
      continue;
    }
    fmt::print(out,
               "server {} holds nothing of the file system any more{}: it can be stopped and its "
               "data directory deleted\n",
               r.server.id, r.reached.ok() ? "" : " (it does not answer)");
  }
  return holding ? 1 : 0;
}

}  // namespace

int RunApply(const ApplyOptions& options, std::ostream& out, std::ostream& err) {
  auto refuse = [&err](const std::string& why) {
    fmt::print(err, "sealfs-loader apply: {}; nothing was changed\n", why);
    return 1;
  };
  Result<ClusterConfig> next = LoadClusterConfig(options.cluster_file);
  if (!next.ok()) return refuse(next.status().message());
  Result<ClusterSecret> secret = LoadClusterSecret(*next, options.cluster_file);
  if (!secret.ok()) return refuse(secret.status().message());

  std::vector<MemberReport> reports = SurveyMembers(next->servers, options.timeout);
  for (const MemberReport& r : reports) {
    if (!r.reached.ok())
      return refuse(fmt::format("server {} cannot be asked: {}", r.server.id, r.reached.message()));
  }
  SignedMembership current_record;
  ClusterConfig now = *NewestMembership(reports, &current_record);
  if (Status s = CheckChange(now, *next); !s.ok())
    return refuse(fmt::format("{}: {}", options.cluster_file, s.message()));
  // A removed server is drained first: it must answer, and hand everything
  // it holds to the others.
  const std::vector<ServerInfo> removed = Removed(now, *next);
  std::vector<MemberReport> leaving = SurveyMembers(removed, options.timeout);
  for (const MemberReport& r : leaving) {
    if (!r.reached.ok())
      return refuse(fmt::format(
          "server {} is to be removed but cannot be asked ({}); it may hold the only copy of "
          "its metadata and chunks, so it leaves only once it has handed them over",
          r.server.id, r.reached.message()));
  }
  const bool unchanged = SameMembers(now, *next) && !current_record.mac.empty();
  for (const MemberReport& r : reports) {
    if (!r.status.migrating) continue;
    // The change is under way (an earlier apply was stopped): follow it.
    if (unchanged && r.membership.version == now.version) {
      fmt::print(out, "membership version {} is on its way: chunks are still moving\n",
                 now.version);
      return options.wait ? Wait(options, now, out, err) : 0;
    }
    return refuse(
        fmt::format("server {} still moves chunks for membership version {}; wait "
                    "for it (sealfs-loader status)",
                    r.server.id, r.status.migrating_to));
  }
  // New servers: every chunk the new placement moves is pulled by its new
  // server from the one the current placement gives it.
  const bool moves = Ids(*next) != Ids(now);
  if (moves) next->moving_from = now.servers;
  std::vector<std::pair<ServerId, ServerId>> heirs;
  for (const ServerInfo& r : removed) {
    const ServerId heir = ChooseHeir(now, reports);
    if (heir == 0) return refuse("no server of the cluster stays to take over the removed ones");
    heirs.emplace_back(r.id, heir);
    fmt::print(out,
               "server {} is removed: its chunks move to the others, its metadata to server "
               "{}\n",
               r.id, heir);
  }
  next->retired = Retire(now, heirs);

  // The same members as the current membership: servers that are behind
  // get the current record; otherwise the file becomes the next version.
  SignedMembership record = current_record;
  uint64_t version = now.version;
  if (moves || !SameMembers(now, *next) || current_record.mac.empty()) {
    version = now.version + 1;
    next->version = version;
    record = MakeMembership(*next, &*secret);
    fmt::print(out, "publishing membership version {} ({} servers; was version {})\n", version,
               next->servers.size(), now.version);
  } else {
    fmt::print(out, "the cluster already has this membership as version {}\n", version);
  }
  // The servers being removed take the new version too: it tells them to
  // hand everything over.
  std::vector<MemberReport> targets = reports;
  targets.insert(targets.end(), leaving.begin(), leaving.end());
  int failed = 0;
  for (const MemberReport& r : targets) {
    if (r.membership.version == version) {
      fmt::print(out, "  server {} ({}:{}): on version {}\n", r.server.id, r.server.address,
                 r.server.port, version);
      continue;
    }
    Result<uint64_t> taken = OfferMembership(r.server, record, options.timeout);
    if (taken.ok() && *taken == version) {
      fmt::print(out, "  server {} ({}:{}): version {} -> {}\n", r.server.id, r.server.address,
                 r.server.port, r.membership.version, version);
    } else {
      ++failed;
      std::string why =
          taken.ok() ? fmt::format("it is on version {}", *taken) : taken.status().message();
      if (taken.err() == EPERM)
        why += fmt::format(" (the server has no cluster secret, or another one than {})",
                           next->secret_file);
      fmt::print(err, "  server {} ({}:{}): did not take version {}: {}\n", r.server.id,
                 r.server.address, r.server.port, version, why);
    }
  }
  if (failed) {
    fmt::print(err,
               "sealfs-loader apply: {} of {} servers are not on version {} yet; run apply "
               "again when they are reachable (clients and servers hand the new version on "
               "meanwhile)\n",
               failed, targets.size(), version);
    return 1;
  }
  fmt::print(out, "all {} servers are on membership version {}\n", targets.size(), version);
  // Follows a move this membership started, or an earlier one, to its end.
  const ClusterConfig& target = moves ? *next : now;
  if (target.moving_from.empty() || !options.wait) return 0;
  return Wait(options, target, out, err);
}

}  // namespace sealfs
