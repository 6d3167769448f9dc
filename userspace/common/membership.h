// Membership records: a ClusterConfig as the loader publishes it, servers
// store it and clients learn it (docs/design.md, "Membership changes").
//
// The record is the config's encoding (ClusterConfig::Fields); the loader
// signs it with the cluster secret. Servers take a new membership only with a
// MAC that verifies; clients take any record their servers send them, since
// they trust those servers with their data anyway.
#pragma once

#include <string>

#include "cluster_config.h"
#include "cluster_secret.h"
#include "messages.h"
#include "status.h"

namespace sealfs {

// The record of `config`, signed with `secret` when one is given.
SignedMembership MakeMembership(const ClusterConfig& config, const ClusterSecret* secret);

// Decodes and checks a record (CheckClusterConfig). With a secret, the MAC
// must verify too (EPERM otherwise).
Result<ClusterConfig> ReadMembership(const SignedMembership& m, const ClusterSecret* secret);

}  // namespace sealfs
