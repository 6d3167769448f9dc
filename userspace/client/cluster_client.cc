#include "cluster_client.h"

#include <fmt/format.h>

#include <cstring>

#include "xdp_wire.h"

namespace sealfs {

ClusterClient::ClusterClient(ClusterConfig config, std::chrono::milliseconds timeout,
                             std::chrono::microseconds udp_timeout)
    : view_(config, MakeMembership(config, nullptr), {.timeout = timeout}),
      root_(config.RootIno()) {
  for (const ServerInfo& s : config.servers) {
    if (s.udp_port && udp_timeout.count() > 0)
      udp_[s.id].path = std::make_unique<UdpFastPath>(s, udp_timeout);
  }
  view_.set_after_adopt([this] {
    std::shared_ptr<const ClusterView::Members> m = view_.Current();
    for (auto& [id, server] : udp_) server.member = m->config.Find(id) != nullptr;
  });
}

ClusterClient::~ClusterClient() = default;

Status ClusterClient::EachServer(const ClusterView::Members& m,
                                 const std::function<Status(RpcChannel*)>& fn) {
  for (const ServerInfo& s : m.config.servers) {
    RpcChannel* ch = view_.Channel(s.id);
    if (!ch) return Status::Error(EIO, fmt::format("server {} has no channel", s.id));
    if (Status st = fn(ch); !st.ok()) return st;
  }
  return Status::Ok();
}

Status ClusterClient::ForEachServer(const std::function<Status(RpcChannel*)>& fn) {
  return view_.Routed([&](const ClusterView::Members& m) { return EachServer(m, fn); });
}

Status ClusterClient::PingAll() {
  return ForEachServer([](RpcChannel* ch) {
    Empty req, resp;
    Status s = ch->Call(Op::kPing, req, &resp, true);
    if (!s.ok() && s.message().empty())
      return Status::Error(s.err(), ch->name() + ": " + s.ToString());
    return s;
  });
}

bool ClusterClient::AskUdp(const sealfs_xdp_key& key, Status* status, sealfs_xdp_payload* payload) {
  auto it = udp_.find(HomeOf(key.ino));
  if (it == udp_.end() || !it->second.member) return false;
  std::optional<sealfs_xdp_msg> reply = it->second.path->Ask(key);
  if (!reply) return false;
  *status = reply->status ? Status::Error(reply->status) : Status::Ok();
  *payload = reply->payload;
  return true;
}

Status ClusterClient::Getattr(Ino ino, Attr* attr) {
  Status s;
  sealfs_xdp_payload payload;
  if (AskUdp(XdpGetattrKey(ino), &s, &payload)) {
    if (s.ok()) *attr = XdpAttr(payload);
    return s;
  }
  InoReq req{ino};
  return Meta(Op::kGetattr, ino, req, attr, true);
}

Status ClusterClient::Lookup(LookupReq& req, Entry* entry) {
  Status s;
  sealfs_xdp_payload payload;
  Result<sealfs_xdp_key> key = XdpLookupKey(req.parent, req.name);
  if (key.ok() && AskUdp(*key, &s, &payload)) {
    if (s.ok()) *entry = XdpEntry(payload);
    return s;
  }
  return Meta(Op::kLookup, req.parent, req, entry, true);
}

Status ClusterClient::Read(Ino ino, uint64_t offset, std::span<uint8_t> out) {
  const uint64_t chunk_size = view_.Current()->placement.chunk_size();
  for (const ChunkSpan& span : SplitIntoChunks(offset, out.size(), chunk_size)) {
    Status s = view_.Routed([&](const ClusterView::Members& m) {
      return ReadSpan(view_.Channel(m.placement.ChunkServer(ino, span.chunk)), ino, span,
                      out.data() + (span.file_offset - offset));
    });
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status ClusterClient::ReadSpan(RpcChannel* ch, Ino ino, const ChunkSpan& span, uint8_t* dst) {
  if (!ch) return Status::Error(EIO, "chunk placed on an unknown server");
  ReadReq req{.ino = ino, .chunk = span.chunk, .offset = span.offset, .length = span.length};
  // The bytes of the reply (a BytesResp) are received straight into the
  // caller's buffer.
  Result<Reply> r = ch->Call(Op::kRead, Encode(req), {}, true, std::span(dst, span.length));
  if (!r.ok()) return r.status();
  if (r->status != 0) return Status::Error(r->status);
  Reader reader(r->payload);
  std::string_view data;
  size_t got = r->in_sink ? reader.U32() : (data = reader.Bytes(span.length)).size();
  if (!reader.Done()) return Status::Error(EIO, "malformed READ reply from " + ch->name());
  if (!r->in_sink) std::memcpy(dst, data.data(), got);
  std::memset(dst + got, 0, span.length - got);  // a hole
  return Status::Ok();
}

Status ClusterClient::Write(Ino ino, uint64_t offset, std::string_view data, int64_t* blocks_delta,
                            uint64_t* reached) {
  const uint64_t chunk_size = view_.Current()->placement.chunk_size();
  for (const ChunkSpan& span : SplitIntoChunks(offset, data.size(), chunk_size)) {
    Status s = view_.Routed([&](const ClusterView::Members& m) {
      return WriteSpan(view_.Channel(m.placement.ChunkServer(ino, span.chunk)), ino, span,
                       data.substr(span.file_offset - offset, span.length), blocks_delta, reached);
    });
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status ClusterClient::WriteSpan(RpcChannel* ch, Ino ino, const ChunkSpan& span,
                                std::string_view bytes, int64_t* blocks_delta, uint64_t* reached) {
  if (!ch) return Status::Error(EIO, "chunk placed on an unknown server");
  // WriteReq's fields up to the data's length; the data itself is gathered
  // from the caller's buffer.
  std::vector<uint8_t> fields;
  Writer w(&fields);
  w.U64(ino);
  w.U64(span.chunk);
  w.U32(span.offset);
  w.U32(span.length);
  bool maybe_sent = false;
  Result<Reply> r = ch->Call(Op::kWrite, fields, bytes, true, {}, &maybe_sent);
  // A server that answers with an error has stored nothing past the chunk's
  // old end; a request lost on the way may have been stored.
  if (r.ok() ? r->status == 0 : maybe_sent && !IsMembershipMismatch(r.status()))
    *reached = std::max(*reached, span.file_offset + span.length);
  if (!r.ok()) return r.status();
  if (r->status != 0) return Status::Error(r->status);
  WriteResp resp;
  if (!Decode(r->payload, &resp)) return Status::Error(EIO, "malformed WRITE reply");
  *blocks_delta += resp.blocks_delta;
  return Status::Ok();
}

Status ClusterClient::SyncChunks(Ino ino) {
  return ForEachServer([ino](RpcChannel* ch) {
    InoReq req{ino};
    Empty resp;
    return ch->Call(Op::kSyncChunks, req, &resp, true);
  });
}

Result<StatfsResp> ClusterClient::Statfs() {
  StatfsResp total;
  auto add = [&total](RpcChannel* ch) {
    Empty req;
    StatfsResp r;
    if (Status st = ch->Call(Op::kStatfs, req, &r, true); !st.ok()) return st;
    total.bytes_total += r.bytes_total;
    total.bytes_free += r.bytes_free;
    total.bytes_avail += r.bytes_avail;
    total.inodes_total += r.inodes_total;
    total.inodes_free += r.inodes_free;
    return Status::Ok();
  };
  Status s = view_.Routed([&](const ClusterView::Members& m) {
    total = {};  // a routing again starts over
    return EachServer(m, add);
  });
  if (!s.ok()) return s;
  return total;
}

}  // namespace sealfs
