#include "cluster_view.h"

#include <spdlog/spdlog.h>

#include <set>

#include "messages.h"

namespace sealfs {
namespace {

// The members and the servers chunks move from.
std::set<ServerId> AllIds(const ClusterConfig& c) {
  std::set<ServerId> ids;
  for (const ServerInfo& s : c.servers) ids.insert(s.id);
  for (const ServerInfo& s : c.moving_from) ids.insert(s.id);
  return ids;
}

}  // namespace

ClusterView::ClusterView(ClusterConfig config, SignedMembership record, Options options)
    : options_(std::move(options)),
      current_(std::make_shared<Members>(std::move(config), std::move(record))) {
  UpdateChannels(*current_);
}

std::shared_ptr<const ClusterView::Members> ClusterView::Current() const {
  std::lock_guard lock(mu_);
  return current_;
}

RpcChannel* ClusterView::Channel(ServerId id) {
  std::lock_guard lock(mu_);
  auto it = channels_.find(id);
  return it == channels_.end() ? nullptr : it->second.get();
}

RpcChannel* ClusterView::HomeChannel(ServerId home) {
  return Channel(Current()->config.HostOf(home));
}

void ClusterView::UpdateChannels(const Members& m) {
  auto listed = [&m](ServerId id) {
    const ServerInfo* s = m.config.Find(id);
    return s ? s : m.config.FindSource(id);
  };
  for (auto it = channels_.begin(); it != channels_.end();) {
    const ServerInfo* s = listed(it->first);
    if (!s || s->address != it->second->server().address || s->port != it->second->server().port) {
      replaced_.push_back(std::move(it->second));
      it = channels_.erase(it);
    } else {
      ++it;
    }
  }
  for (ServerId id : AllIds(m.config)) {
    const ServerInfo& s = *listed(id);
    if (s.id == options_.self) continue;
    auto& ch = channels_[s.id];
    if (!ch) {
      ch = std::make_unique<RpcChannel>(s, m.config.version, options_.timeout);
      ch->set_mismatch_handler([this](RpcChannel* c, const Reply& r) { return OnMismatch(c, r); });
    }
    ch->set_epoch(m.config.version);
  }
}

Result<uint64_t> ClusterView::Adopt(const SignedMembership& record) {
  Result<ClusterConfig> config = ReadMembership(record, options_.verify_with);
  if (!config.ok()) return config.status();
  std::lock_guard adopting(adopt_mu_);
  std::shared_ptr<const Members> old = Current();
  if (config->version <= old->config.version) return old->config.version;
  auto next = std::make_shared<Members>(std::move(*config), record);
  {
    std::unique_lock gate(gate_mu_);
    switching_ = true;
    const bool idle = gate_cv_.wait_for(gate, kSwitchWait, [this] { return serving_ == 0; });
    auto reopen = [&] {
      switching_ = false;
      gate_cv_.notify_all();
    };
    if (!idle) {
      reopen();
      return Status::Error(EAGAIN, "requests of the current membership still running");
    }
    if (options_.before_adopt) {
      if (Status s = options_.before_adopt(*next); !s.ok()) {
        reopen();
        return s;
      }
    }
    {
      std::lock_guard lock(mu_);
      current_ = next;
      UpdateChannels(*next);
    }
    reopen();
  }
  spdlog::info("membership version {} adopted ({} servers; was version {})", next->config.version,
               next->config.servers.size(), old->config.version);
  if (after_adopt_) after_adopt_();
  return next->config.version;
}

ClusterView::Serving::Serving(ClusterView* view) : view_(view) {
  std::unique_lock gate(view_->gate_mu_);
  view_->gate_cv_.wait(gate, [this] { return !view_->switching_; });
  ++view_->serving_;
}

ClusterView::Serving::~Serving() {
  std::lock_guard gate(view_->gate_mu_);
  if (--view_->serving_ == 0) view_->gate_cv_.notify_all();
}

bool ClusterView::OnMismatch(RpcChannel* channel, const Reply& reply) {
  std::shared_ptr<const Members> m = Current();
  if (reply.epoch > m->config.version) {
    SignedMembership record;
    if (!Decode(reply.payload, &record)) {
      spdlog::warn("{} is on membership version {} but sent no valid record of it", channel->name(),
                   reply.epoch);
      return false;
    }
    if (Result<uint64_t> v = Adopt(record); !v.ok()) {
      spdlog::warn("membership version {} from {} not adopted: {}", reply.epoch, channel->name(),
                   v.status().message());
      return false;
    }
  } else {
    // The server is behind: hand it the signed record this process has.
    if (m->record.mac.empty()) return true;
    SignedMembership offer = m->record;
    MembershipVersion resp;
    if (Status s = channel->Call(Op::kMembershipOffer, offer, &resp, true); !s.ok())
      spdlog::warn("{} is on membership version {} and refused version {}: {}", channel->name(),
                   reply.epoch, m->config.version, s.ToString());
    return true;  // the same server again, once it has caught up
  }
  // A client routes again under the membership it adopted.
  return options_.self != 0;
}

}  // namespace sealfs
