#include "udp_fast_path.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "xdp_wire.h"

namespace sealfs {
namespace {

// Unanswered requests in a row after which a server is not asked over UDP
// for a while; the pause doubles each time it is needed again, up to the
// maximum, and starts over after an answer.
constexpr int kUnansweredBeforePause = 3;
constexpr std::chrono::seconds kFirstPause{1};
constexpr std::chrono::seconds kLongestPause{60};
// Sockets kept for reuse; more calls at once than this open and close their own.
constexpr size_t kMaxIdleSockets = 64;

// The server's UDP address as a sockaddr, or empty if `address` is not an IP literal.
std::vector<uint8_t> SocketAddress(const std::string& address, uint16_t port) {
  sockaddr_in v4{};
  if (::inet_pton(AF_INET, address.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    const auto* p = reinterpret_cast<const uint8_t*>(&v4);
    return {p, p + sizeof(v4)};
  }
  sockaddr_in6 v6{};
  if (::inet_pton(AF_INET6, address.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    const auto* p = reinterpret_cast<const uint8_t*>(&v6);
    return {p, p + sizeof(v6)};
  }
  return {};
}

}  // namespace

UdpFastPath::UdpFastPath(const ServerInfo& server, std::chrono::microseconds timeout)
    : name_(fmt::format("server {} (UDP {}:{})", server.id, server.address, server.udp_port)),
      timeout_(timeout),
      address_(SocketAddress(server.address, server.udp_port)) {
  if (address_.empty())
    spdlog::warn("{}: not an IP address; GETATTR and LOOKUP go over TCP", name_);
}

UdpFastPath::~UdpFastPath() = default;

std::optional<sealfs_xdp_msg> UdpFastPath::Ask(const sealfs_xdp_key& key) {
  if (address_.empty() || Clock::now().time_since_epoch().count() < paused_until_.load())
    return std::nullopt;
  UniqueFd fd = TakeSocket();
  if (!fd) return std::nullopt;
  std::optional<sealfs_xdp_msg> reply =
      Exchange(fd.get(), XdpRequest(key, next_request_id_.fetch_add(1)));
  ReturnSocket(std::move(fd));
  return reply;
}

std::optional<sealfs_xdp_msg> UdpFastPath::Exchange(int fd, const sealfs_xdp_msg& request) {
  if (::send(fd, &request, sizeof(request), 0) != sizeof(request)) {
    Unanswered(std::strerror(errno));
    return std::nullopt;
  }
  const Clock::time_point deadline = Clock::now() + timeout_;
  // One byte more than a message: a longer datagram must not pass as one.
  uint8_t buf[sizeof(sealfs_xdp_msg) + 1];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      Unanswered("no answer in time");
      return std::nullopt;
    }
    pollfd p{fd, POLLIN, 0};
    const timespec wait{.tv_sec = left.count() / 1000000000, .tv_nsec = left.count() % 1000000000};
    int ready = ::ppoll(&p, 1, &wait, nullptr);
    if (ready < 0 && errno != EINTR) {
      Unanswered(std::strerror(errno));
      return std::nullopt;
    }
    if (ready <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      // ECONNREFUSED: an ICMP port unreachable, nothing listens there.
      Unanswered(std::strerror(errno));
      return std::nullopt;
    }
    Result<sealfs_xdp_msg> reply = XdpParseReply(std::span(buf, static_cast<size_t>(n)), request);
    if (reply.ok()) {
      Answered();
      return *reply;
    }
    // A late reply to an earlier request on this socket: keep waiting.
  }
}

UniqueFd UdpFastPath::TakeSocket() {
  {
    std::lock_guard lock(mu_);
    if (!idle_sockets_.empty()) {
      UniqueFd fd = std::move(idle_sockets_.back());
      idle_sockets_.pop_back();
      return fd;
    }
  }
  const auto* addr = reinterpret_cast<const sockaddr*>(address_.data());
  UniqueFd fd(::socket(addr->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  // Connected: the kernel delivers only the server's datagrams, and reports
  // an ICMP port unreachable as ECONNREFUSED instead of a silent timeout.
  if (!fd || ::connect(fd.get(), addr, static_cast<socklen_t>(address_.size())) != 0) {
    Unanswered(std::strerror(errno));
    return {};
  }
  return fd;
}

void UdpFastPath::ReturnSocket(UniqueFd fd) {
  std::lock_guard lock(mu_);
  if (idle_sockets_.size() < kMaxIdleSockets) idle_sockets_.push_back(std::move(fd));
}

void UdpFastPath::Answered() {
  if (clean_.load(std::memory_order_relaxed)) return;  // every answer after the first
  std::lock_guard lock(mu_);
  unanswered_in_a_row_ = 0;
  pause_ = std::chrono::seconds(0);
  clean_ = true;
}

void UdpFastPath::Unanswered(const char* why) {
  std::lock_guard lock(mu_);
  clean_ = false;
  if (++unanswered_in_a_row_ < kUnansweredBeforePause) return;
  unanswered_in_a_row_ = 0;
  pause_ = std::min(kLongestPause, pause_.count() ? pause_ * 2 : kFirstPause);
  paused_until_ = (Clock::now() + pause_).time_since_epoch().count();
  spdlog::info("{}: {} unanswered requests in a row (last: {}); asking over TCP for {} s", name_,
               kUnansweredBeforePause, why, pause_.count());
}

}  // namespace sealfs
