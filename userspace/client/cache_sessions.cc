#include "cache_sessions.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "frame.h"

namespace sealfs {
namespace {

using namespace std::chrono_literals;

constexpr auto kIoTimeout = 2s;
constexpr auto kReconnectDelay = 200ms;
constexpr uint64_t kRegisterId = 1;

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// A blocking TCP connection to `server` with send/receive timeouts, or -1.
int Connect(const ServerInfo& server) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(server.port);
  if (getaddrinfo(server.address.c_str(), port.c_str(), &hints, &res) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = res; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    timeval tv{.tv_sec = std::chrono::seconds(kIoTimeout).count(), .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  return fd;
}

bool WriteAll(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool ReadAll(int fd, uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t r = recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool SendFrame(int fd, FrameHeader h, const std::vector<uint8_t>& payload) {
  h.payload_len = static_cast<uint32_t>(payload.size());
  HeaderBytes hb = EncodeHeader(h);
  std::vector<uint8_t> bytes(hb.begin(), hb.end());
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  return WriteAll(fd, bytes.data(), bytes.size());
}

bool ReadFrame(int fd, FrameHeader* h, std::vector<uint8_t>* payload) {
  HeaderBytes hb;
  if (!ReadAll(fd, hb.data(), hb.size())) return false;
  if (DecodeHeader(hb, h) != HeaderError::kNone) return false;
  payload->resize(h->payload_len);
  return ReadAll(fd, payload->data(), payload->size());
}

}  // namespace

struct CacheSessions::Server {
  ServerInfo info;
  uint64_t epoch = 0;
  std::thread thread;
  std::atomic<bool> open{false};
  std::atomic<bool> lost{false};
  std::mutex fd_mu;
  int fd = -1;                // guarded by fd_mu; the thread's connection
  uint64_t lease_end_ns = 0;  // guarded by CacheSessions::mu_
};

CacheSessions::CacheSessions(const ClusterConfig& config, uint64_t client_id,
                             std::chrono::milliseconds lease, Listener* listener)
    : client_id_(client_id), lease_(lease), listener_(listener) {
  for (const ServerInfo& info : config.servers) {
    auto s = std::make_unique<Server>();
    s->info = info;
    s->epoch = config.version;
    servers_.push_back(std::move(s));
  }
  for (auto& s : servers_) s->thread = std::thread([this, p = s.get()] { Run(p); });
}

CacheSessions::~CacheSessions() {
  stop_ = true;
  for (auto& s : servers_) {
    std::lock_guard lock(s->fd_mu);
    if (s->fd >= 0) shutdown(s->fd, SHUT_RDWR);
  }
  for (auto& s : servers_) s->thread.join();
}

bool CacheSessions::Open(ServerId server) const {
  for (const auto& s : servers_)
    if (s->info.id == server) return s->open.load();
  return false;
}

void CacheSessions::Lost(ServerId server) {
  for (auto& s : servers_) {
    if (s->info.id != server) continue;
    s->lost = true;
    std::lock_guard lock(s->fd_mu);
    if (s->fd >= 0) shutdown(s->fd, SHUT_RDWR);
  }
}

bool CacheSessions::WaitAllOpen(std::chrono::milliseconds timeout) const {
  auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (std::all_of(servers_.begin(), servers_.end(), [](auto& s) { return s->open.load(); }))
      return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(10ms);
  }
}

void CacheSessions::PublishLease() {
  uint64_t deadline = UINT64_MAX;
  for (const auto& s : servers_) deadline = std::min(deadline, s->lease_end_ns);
  listener_->SetLease(deadline);
}

void CacheSessions::Run(Server* s) {
  const std::string name =
      fmt::format("server {} ({}:{})", s->info.id, s->info.address, s->info.port);
  const uint64_t lease_ns = std::chrono::nanoseconds(lease_).count();
  while (!stop_) {
    // Nothing may stay cached from a server without a session, and a new
    // session starts from an empty cache.
    {
      std::lock_guard lock(mu_);
      s->lease_end_ns = 0;
      PublishLease();
      listener_->DropAll();
    }
    s->lost = false;
    int fd = Connect(s->info);
    if (fd < 0) {
      spdlog::debug("cache session: cannot connect to {}", name);
      std::this_thread::sleep_for(kReconnectDelay);
      continue;
    }
    {
      std::lock_guard lock(s->fd_mu);
      s->fd = fd;
      if (stop_) shutdown(fd, SHUT_RDWR);
    }
    FrameHeader h{.opcode = static_cast<uint16_t>(Op::kCacheRegister),
                  .flags = 0,
                  .request_id = kRegisterId,
                  .epoch = s->epoch,
                  .status = 0,
                  .payload_len = 0};
    CacheRegisterReq reg{.client = client_id_, .lease_ms = static_cast<uint32_t>(lease_.count())};
    uint64_t sent_ns = MonotonicNs();
    bool ok = SendFrame(fd, h, Encode(reg));
    uint64_t granted_ns = 0;     // 0 until the session is open
    uint64_t renew_sent_ns = 0;  // of the renewal in flight, 0 if none
    uint64_t next_renew_ns = 0;
    uint64_t next_id = kRegisterId + 1;
    while (ok && !stop_ && !s->lost) {
      uint64_t now = MonotonicNs();
      if (granted_ns && renew_sent_ns == 0 && now >= next_renew_ns) {
        CacheRenewReq renew{.client = client_id_};
        h.opcode = static_cast<uint16_t>(Op::kCacheRenew);
        h.request_id = next_id++;
        renew_sent_ns = now;
        next_renew_ns = now + granted_ns / 3;
        if (!(ok = SendFrame(fd, h, Encode(renew)))) break;
      }
      // A server that answers nothing for a whole lease is treated as gone.
      uint64_t waiting_since = granted_ns ? renew_sent_ns : sent_ns;
      if (waiting_since && now > waiting_since + std::max(granted_ns, lease_ns)) {
        spdlog::warn("cache session with {}: no answer for a lease; reconnecting", name);
        break;
      }
      int timeout_ms = 100;
      if (granted_ns && renew_sent_ns == 0 && next_renew_ns > now)
        timeout_ms = static_cast<int>(std::min<uint64_t>((next_renew_ns - now) / 1000000 + 1, 100));
      pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
      int n = poll(&p, 1, timeout_ms);
      if (n < 0 && errno != EINTR) break;
      if (n <= 0) continue;
      FrameHeader in;
      std::vector<uint8_t> payload;
      if (!ReadFrame(fd, &in, &payload)) break;
      const Op op = static_cast<Op>(in.opcode);
      if (!(in.flags & kFlagResponse)) {
        CacheInvalidateReq req;
        FrameHeader reply{.opcode = in.opcode,
                          .flags = kFlagResponse,
                          .request_id = in.request_id,
                          .epoch = s->epoch,
                          .status = 0,
                          .payload_len = 0};
        if (op != Op::kCacheInvalidate || !Decode(payload, &req)) {
          spdlog::warn("cache session with {}: unexpected request {}; reconnecting", name,
                       OpName(op));
          break;
        }
        listener_->Invalidate(req);
        if (!(ok = SendFrame(fd, reply, {}))) break;
      } else if (op == Op::kCacheRegister) {
        CacheRegisterResp resp;
        if (in.status != 0 || !Decode(payload, &resp) || resp.lease_ms == 0) {
          spdlog::warn("cache session with {} refused: {}", name, std::strerror(in.status));
          break;
        }
        granted_ns = uint64_t{resp.lease_ms} * 1000000;
        next_renew_ns = MonotonicNs() + granted_ns / 3;
        std::lock_guard lock(mu_);
        s->lease_end_ns = sent_ns + granted_ns - granted_ns / 10;
        PublishLease();
        s->open = true;
        spdlog::info("cache session with {} open (lease {} ms)", name, resp.lease_ms);
      } else if (op == Op::kCacheRenew) {
        if (in.status == EKEYEXPIRED) {
          spdlog::info("cache session with {} expired; opening a new one", name);
          break;
        }
        if (in.status == 0) {
          std::lock_guard lock(mu_);
          s->lease_end_ns = renew_sent_ns + granted_ns - granted_ns / 10;
          PublishLease();
        }
        renew_sent_ns = 0;
      }
    }
    s->open = false;
    {
      std::lock_guard lock(s->fd_mu);
      close(fd);
      s->fd = -1;
    }
    if (!stop_) std::this_thread::sleep_for(kReconnectDelay);
  }
  std::lock_guard lock(mu_);
  s->lease_end_ns = 0;
  PublishLease();
}

}  // namespace sealfs
