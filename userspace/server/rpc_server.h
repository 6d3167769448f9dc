// RpcServer: accepts TCP connections and serves their frames.
//
// I/O runs on the io_context's threads; each request is handed to a worker
// pool, so a slow request (a synced LevelDB write, a call to a peer) never
// stalls reading from other connections. Replies go back on the connection
// the request came from, matched by request id.
#pragma once

#include <asio.hpp>
#include <memory>
#include <mutex>
#include <set>

#include "connection.h"
#include "request_handler.h"

namespace sealfs {

class RpcServer {
 public:
  // Steps of other servers' operations run on `peer_workers`, everything
  // else that may block on `workers`.
  RpcServer(asio::io_context& io, asio::thread_pool& workers, asio::thread_pool& peer_workers,
            RequestHandler* handler);
  Status Listen(const std::string& address, uint16_t port);
  // Sessions of caching clients: CACHE_REGISTER, their acknowledgements
  // (response frames) and the end of their connections go to `cache`.
  void set_cache(CacheRegistry* cache) { cache_ = cache; }
  void Stop();

 private:
  void Accept();
  void OnFrame(const std::shared_ptr<Connection>& conn, const FrameHeader& h,
               std::vector<uint8_t> payload);
  void RegisterCacheSession(const std::shared_ptr<Connection>& conn, const FrameHeader& h,
                            std::span<const uint8_t> payload);

  asio::thread_pool& workers_;
  asio::thread_pool& peer_workers_;
  RequestHandler* handler_;
  CacheRegistry* cache_ = nullptr;
  asio::ip::tcp::acceptor acceptor_;
  std::mutex mu_;
  std::set<std::shared_ptr<Connection>> conns_;
};

}  // namespace sealfs
