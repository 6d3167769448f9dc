// FuseFs: the FUSE low-level operations of sealfs-mount.
//
// The daemon keeps no per-inode state for lookups (FORGET is free): every
// answer comes from the servers, and the kernel caches attributes and entries
// for --attr-timeout seconds. What it does keep is per-inode write state
// between a write and the next flush: the size the writes reached, the blocks
// they allocated, and whether data was written or read (for mtime and atime).
// A commit of that state that fails at the last release (the home server is
// down) is retried in the background until it lands or the mount ends.
#pragma once

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "cache_sessions.h"
#include "cluster_client.h"
#include "kernel_cache.h"

namespace sealfs {

struct MountOptions {
  double attr_timeout = 1.0;
  double entry_timeout = 1.0;
};

class FuseFs {
 public:
  FuseFs(ClusterClient* client, MountOptions opts) : client_(client), opts_(opts) {}
  ~FuseFs() { FinishUnflushed(); }

  // The operation table handed to fuse_session_new; userdata is a FuseFs*.
  static const fuse_lowlevel_ops* Ops();
  void set_session(fuse_session* se) { session_ = se; }
  void set_client(ClusterClient* client) { client_ = client; }
  // --bpf: answers of LOOKUP and GETATTR are cached in `cache` under the
  // servers' sessions. The daemon's own replies then carry a zero validity:
  // the kernel asks the BPF program every time (whose attribute answers last
  // one tick, docs/design.md).
  void set_cache(KernelCache* cache, CacheSessions* sessions) {
    cache_ = cache;
    sessions_ = sessions;
  }
  // Stops the background retries after one last attempt each, logging what
  // could not be committed. Called before the client goes away.
  void FinishUnflushed();

 private:
  struct WriteState {
    uint64_t end = 0;  // highest byte offset written + 1
    int64_t blocks_delta = 0;
    bool modified = false;  // mtime must move
    bool read = false;      // atime may move
  };
  struct OpenState {
    int handles = 0;
    bool orphaned = false;  // unlinked while open: drop it at the last release
  };

  Ino ToServer(fuse_ino_t ino) const { return ino == FUSE_ROOT_ID ? client_->root() : ino; }
  fuse_ino_t ToFuse(Ino ino) const { return ino == client_->root() ? FUSE_ROOT_ID : ino; }
  struct stat ToStat(const Attr& a) const;
  double AttrTimeout() const;
  fuse_entry_param EntryParam(const Entry& e);
  void ReplyEntry(fuse_req_t req, const Entry& e);
  void ReplyAttr(fuse_req_t req, Attr a);
  Status FillAttr(Entry* e, bool* cacheable);
  // Sends the caching form of a read when the owner's cache session is open
  // (*cacheable is then true on success), else returns plain(), the plain
  // form (which may go over UDP).
  template <class CachingReq, class Resp, class PlainCall>
  Status CachingCall(Op caching_op, CachingReq& cq, Ino owner, Resp* resp, bool* cacheable,
                     PlainCall plain);
  // Pending writes of this mount change what would be answered about `ino`.
  bool HasPendingSize(Ino ino);
  void OverlayPendingWrites(Attr* a);
  // Pushes pending size/block/time changes of `ino` to its home server.
  Status CommitPending(Ino ino, bool sync);
  // Hands a commit that failed at the last release to the retry thread.
  void RetryLater(Ino ino, const Status& why);
  void RetryUnflushedLoop();
  void MakeNode(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev,
                const char* link, fuse_file_info* fi);
  bool AnyOpen();
  // After UNLINK or RENAME: drops an inode that lost its last link now, or at
  // its last release if this mount has it open.
  void SettleOrphan(const UnlinkResp& r);
  void NoteKernelView(const Attr& a);
  void RemoveEntry(fuse_req_t req, fuse_ino_t parent, const char* name, uint8_t flags);
  void DoReaddir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus);

  // Operation handlers (see Ops()).
  void Lookup(fuse_req_t req, fuse_ino_t parent, const char* name);
  void Getattr(fuse_req_t req, fuse_ino_t ino);
  void Setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set);
  void Readlink(fuse_req_t req, fuse_ino_t ino);
  void Mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev);
  void Mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode);
  void Unlink(fuse_req_t req, fuse_ino_t parent, const char* name);
  void Rmdir(fuse_req_t req, fuse_ino_t parent, const char* name);
  void Symlink(fuse_req_t req, const char* link, fuse_ino_t parent, const char* name);
  void Rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
              const char* newname, unsigned int flags);
  void Link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname);
  void Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  void Create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi);
  void Read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi);
  void Write(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off,
             fuse_file_info* fi);
  void Flush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  void Release(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  void Fsync(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi);
  void Statfs(fuse_req_t req, fuse_ino_t ino);
  void Setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
                int flags);
  void Getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size);
  void Listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
  void Removexattr(fuse_req_t req, fuse_ino_t ino, const char* name);

  friend struct FuseTrampolines;

  ClusterClient* client_;
  MountOptions opts_;
  fuse_session* session_ = nullptr;
  KernelCache* cache_ = nullptr;
  CacheSessions* sessions_ = nullptr;

  std::mutex mu_;
  std::unordered_map<Ino, WriteState> pending_;  // guarded by mu_
  std::unordered_map<Ino, OpenState> open_;      // guarded by mu_
  // What the kernel was last told about each inode's size and mtime, to
  // invalidate its attribute cache at open when another client changed them.
  std::unordered_map<Ino, std::pair<uint64_t, int64_t>> kernel_view_;  // guarded by mu_
  std::set<Ino> unflushed_;                                            // guarded by mu_
  bool stopping_ = false;                                              // guarded by mu_
  std::condition_variable unflushed_cv_;
  std::thread retry_thread_;  // started at the first failed release
};

}  // namespace sealfs
