// MemberSurvey: what every server says about itself (MEMBERSHIP_GET), asked
// of all of them at once, for `sealfs-loader apply` and `status`.
#pragma once

#include <chrono>
#include <optional>
#include <vector>

#include "cluster_config.h"
#include "messages.h"
#include "status.h"

namespace sealfs {

struct MemberReport {
  ServerInfo server;  // as the cluster file lists it
  Status reached;     // why it could not be asked, or what it answered wrongly
  ServerStatusResp status;
  ClusterConfig membership;  // the membership it acts on (when reached)
};

// Asks every server in `servers`, in parallel; each answer is checked (a
// readable membership, the id the file gives the address).
std::vector<MemberReport> SurveyMembers(const std::vector<ServerInfo>& servers,
                                        std::chrono::milliseconds timeout);

// The newest membership any reached server acts on, if one was reached;
// of two records with that version (a server being added reports its own
// cluster file's), the one most servers act on.
std::optional<ClusterConfig> NewestMembership(const std::vector<MemberReport>& reports,
                                              SignedMembership* record);

// MEMBERSHIP_OFFER of `record` to `server`; the version it acts on after.
Result<uint64_t> OfferMembership(const ServerInfo& server, const SignedMembership& record,
                                 std::chrono::milliseconds timeout);

}  // namespace sealfs
