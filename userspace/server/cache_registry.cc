#include "cache_registry.h"

#include <spdlog/spdlog.h>

#include <thread>

namespace sealfs {
namespace {

// The innermost DeferredAcks alive on this thread.
thread_local CacheRegistry::DeferredAcks* current_deferral = nullptr;

Status NoSession(uint64_t client) {
  return Status::Error(EKEYEXPIRED,
                       fmt::format("no live cache session for client {:016x}", client));
}

}  // namespace

CacheRegistry::CacheRegistry(Options opts, std::function<Status()> persist_first_session)
    : opts_(opts),
      grace_end_(Clock::now() + opts.grace),
      persist_first_session_(std::move(persist_first_session)) {}

Result<uint32_t> CacheRegistry::Register(const std::shared_ptr<Connection>& conn,
                                         const CacheRegisterReq& req) {
  {
    std::lock_guard lock(persist_mu_);
    if (!persisted_ && persist_first_session_) {
      if (Status s = persist_first_session_(); !s.ok()) return s;
    }
    persisted_ = true;
  }
  auto lease = std::min(std::chrono::milliseconds(req.lease_ms), opts_.max_lease);
  if (lease.count() <= 0) lease = opts_.max_lease;
  auto s = std::make_shared<Session>();
  s->client = req.client;
  s->conn = conn;
  s->lease = lease;
  s->lease_end = Clock::now() + lease;
  std::lock_guard lock(mu_);
  if (closed_)
    return Status::Error(EKEYEXPIRED, "this server is leaving the cluster: it grants no leases");
  if (auto it = sessions_.find(req.client); it != sessions_.end())
    Expire(it->second, "registered again");
  sessions_[req.client] = s;
  live_sessions_ = sessions_.size();
  spdlog::info("cache session of client {:016x} opened from {} (lease {} ms)", req.client,
               conn->peer_name(), lease.count());
  return static_cast<uint32_t>(lease.count());
}

Result<std::shared_ptr<CacheRegistry::Session>> CacheRegistry::LiveSession(uint64_t client) {
  auto it = sessions_.find(client);
  if (it == sessions_.end() || !it->second->conn) return NoSession(client);
  return it->second;
}

CacheRegistry::Clock::time_point CacheRegistry::Close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  Clock::time_point last = Clock::now();
  while (!sessions_.empty()) {
    std::shared_ptr<Session> s = sessions_.begin()->second;
    last = std::max(last, s->lease_end);
    Expire(s, "this server is leaving the cluster");
  }
  return last;
}

Status CacheRegistry::Renew(uint64_t client) {
  std::lock_guard lock(mu_);
  Result<std::shared_ptr<Session>> s = LiveSession(client);
  if (!s.ok()) return s.status();
  if ((*s)->unacked > 0)
    return Status::Error(EBUSY, "an invalidation is not acknowledged yet: lease not extended");
  (*s)->lease_end = Clock::now() + (*s)->lease;
  return Status::Ok();
}

Status CacheRegistry::NoteAttr(uint64_t client, Ino ino) { return Note(client, ino, false); }

Status CacheRegistry::NoteDir(uint64_t client, Ino dir) { return Note(client, dir, true); }

Status CacheRegistry::Note(uint64_t client, Ino ino, bool entries) {
  std::lock_guard lock(mu_);
  Result<std::shared_ptr<Session>> s = LiveSession(client);
  if (!s.ok()) return s.status();
  if ((*s)->attrs.size() + (*s)->dirs.size() >= opts_.max_interest) {
    Expire(*s, "holds too many cached answers");
    return NoSession(client);
  }
  (entries ? (*s)->dirs : (*s)->attrs).insert(ino);
  return Status::Ok();
}

void CacheRegistry::Expire(const std::shared_ptr<Session>& s, const char* why) {
  spdlog::info("cache session of client {:016x} expired: {}", s->client, why);
  if (auto it = sessions_.find(s->client); it != sessions_.end() && it->second == s)
    sessions_.erase(it);
  live_sessions_ = sessions_.size();
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.session == s)
      it = pending_.erase(it);
    else
      ++it;
  }
  if (s->conn) s->conn->Close("cache session expired");
  s->conn = nullptr;
  s->attrs.clear();
  s->dirs.clear();
  acked_.notify_all();
}

void CacheRegistry::WaitForGrace() {
  if (Clock::now() < grace_end_) std::this_thread::sleep_until(grace_end_);
}

void CacheRegistry::Committed(std::span<const Ino> inodes, std::span<const EntryName> entries) {
  WaitForGrace();
  if (live_sessions_.load() == 0 || (inodes.empty() && entries.empty())) return;
  struct Outgoing {
    std::shared_ptr<Connection> conn;
    uint64_t id;
    CacheInvalidateReq req;
  };
  std::vector<Outgoing> out;
  {
    std::lock_guard lock(mu_);
    const Clock::time_point now = Clock::now();
    std::vector<std::shared_ptr<Session>> gone;
    for (auto& [client, s] : sessions_) {
      if (!s->conn && now >= s->lease_end) {
        gone.push_back(s);  // disconnected, and its lease has run out
        continue;
      }
      CacheInvalidateReq req;
      for (Ino ino : inodes)
        if (s->attrs.erase(ino)) req.inodes.push_back(ino);
      for (const EntryName& e : entries)
        if (s->dirs.contains(e.parent)) req.entries.push_back(e);
      if (req.inodes.empty() && req.entries.empty()) continue;
      uint64_t id = next_request_++;
      pending_[id] = Pending{.session = s, .deadline = s->lease_end};
      ++s->unacked;
      out.push_back(Outgoing{s->conn, id, std::move(req)});
    }
    for (const auto& s : gone) Expire(s, "disconnected and its lease ran out");
  }
  std::vector<uint64_t> ids;
  for (Outgoing& o : out) {
    ids.push_back(o.id);
    if (!o.conn) continue;  // cannot be told: wait for its lease to end
    FrameHeader h;
    h.opcode = static_cast<uint16_t>(Op::kCacheInvalidate);
    h.request_id = o.id;
    o.conn->Send(h, Encode(o.req));
  }
  if (current_deferral && current_deferral->registry_ == this)
    current_deferral->ids_.insert(current_deferral->ids_.end(), ids.begin(), ids.end());
  else
    WaitForAcks(ids);
}

void CacheRegistry::WaitForAcks(std::span<const uint64_t> ids) {
  if (ids.empty()) return;
  std::unique_lock lock(mu_);
  for (uint64_t id : ids) {
    auto it = pending_.find(id);
    while (it != pending_.end() && !it->second.acked && Clock::now() < it->second.deadline) {
      acked_.wait_until(lock, it->second.deadline);
      it = pending_.find(id);
    }
    if (it == pending_.end()) continue;  // the session expired or was replaced meanwhile
    std::shared_ptr<Session> session = it->second.session;
    --session->unacked;
    bool acked = it->second.acked;
    pending_.erase(it);
    if (!acked) Expire(session, "an invalidation was not acknowledged within its lease");
  }
}

CacheRegistry::DeferredAcks::DeferredAcks(CacheRegistry* registry)
    : registry_(registry), outer_(current_deferral) {
  current_deferral = this;
}

void CacheRegistry::DeferredAcks::Wait() {
  if (current_deferral == this) current_deferral = outer_;
  if (!registry_) return;
  std::vector<uint64_t> ids = std::move(ids_);
  ids_.clear();
  registry_->WaitForAcks(ids);
}

void CacheRegistry::OnResponse(const std::shared_ptr<Connection>& conn, const FrameHeader& h) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(h.request_id);
  if (it == pending_.end() || it->second.session->conn != conn) return;  // late: already settled
  it->second.acked = true;
  acked_.notify_all();
}

void CacheRegistry::OnClose(const std::shared_ptr<Connection>& conn) {
  std::lock_guard lock(mu_);
  for (auto& [client, s] : sessions_) {
    if (s->conn != conn) continue;
    spdlog::info("cache session of client {:016x} lost its connection; it ends with its lease",
                 client);
    s->conn = nullptr;
  }
}

}  // namespace sealfs
