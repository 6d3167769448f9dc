#include "cluster_config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace sealfs {
namespace {

Status ErrorAt(const std::string& source, const toml::source_region& where,
               const std::string& msg) {
  if (where.begin.line == 0) return Status::Error(EINVAL, fmt::format("{}: {}", source, msg));
  return Status::Error(EINVAL, fmt::format("{}:{}: {}", source, where.begin.line, msg));
}

// Reads an integer field, checking its type and range.
Status ReadInt(const toml::table& t, std::string_view key, int64_t lo, int64_t hi, bool required,
               const std::string& source, int64_t* out) {
  const toml::node* n = t.get(key);
  if (!n) {
    if (required) return ErrorAt(source, t.source(), fmt::format("missing required key '{}'", key));
    return Status::Ok();
  }
  auto v = n->value<int64_t>();
  if (!n->is_integer() || !v)
    return ErrorAt(source, n->source(), fmt::format("'{}' must be an integer", key));
  if (*v < lo || *v > hi)
    return ErrorAt(source, n->source(),
                   fmt::format("'{}' = {} is out of range [{}, {}]", key, *v, lo, hi));
  *out = *v;
  return Status::Ok();
}

Status ReadString(const toml::table& t, std::string_view key, bool required,
                  const std::string& source, std::string* out) {
  const toml::node* n = t.get(key);
  if (!n) {
    if (required) return ErrorAt(source, t.source(), fmt::format("missing required key '{}'", key));
    return Status::Ok();
  }
  if (!n->is_string())
    return ErrorAt(source, n->source(), fmt::format("'{}' must be a string", key));
  *out = *n->value<std::string>();
  if (out->empty()) return ErrorAt(source, n->source(), fmt::format("'{}' must not be empty", key));
  return Status::Ok();
}

Status CheckKnownKeys(const toml::table& t, const std::set<std::string_view>& known,
                      const std::string& source) {
  for (const auto& [k, v] : t) {
    if (!known.count(k.str()))
      return ErrorAt(source, v.source(), fmt::format("unknown key '{}'", k.str()));
  }
  return Status::Ok();
}

}  // namespace

const ServerInfo* ClusterConfig::Find(ServerId id) const {
  for (const auto& s : servers)
    if (s.id == id) return &s;
  return nullptr;
}

const ServerInfo* ClusterConfig::FindSource(ServerId id) const {
  for (const auto& s : moving_from)
    if (s.id == id) return &s;
  return nullptr;
}

ServerId ClusterConfig::HostOf(ServerId home) const {
  if (Find(home)) return home;
  for (const RetiredServer& r : retired)
    if (r.id == home) return r.host;
  return 0;
}

Status CheckClusterConfig(const ClusterConfig& c) {
  if (c.version == 0) return Status::Error(EINVAL, "membership version 0");
  if (c.chunk_size < (64u << 10) || c.chunk_size > (64u << 20) ||
      (c.chunk_size & (c.chunk_size - 1)))
    return Status::Error(EINVAL, fmt::format("bad chunk size {}", c.chunk_size));
  if (c.servers.empty()) return Status::Error(EINVAL, "no servers");
  std::set<std::pair<std::string, uint16_t>> endpoints;
  for (size_t i = 0; i < c.servers.size(); ++i) {
    const ServerInfo& s = c.servers[i];
    if (s.id == 0 || (i > 0 && s.id <= c.servers[i - 1].id))
      return Status::Error(EINVAL,
                           fmt::format("server id {} is zero, repeated or out of order", s.id));
    if (s.address.empty() || s.port == 0)
      return Status::Error(EINVAL, fmt::format("server {} has no address or port", s.id));
    if (!endpoints.insert({s.address, s.port}).second)
      return Status::Error(EINVAL, fmt::format("address {}:{} is listed twice", s.address, s.port));
  }
  if (!c.Find(c.root_server))
    return Status::Error(EINVAL, fmt::format("root server {} is not a member", c.root_server));
  for (size_t i = 1; i < c.moving_from.size(); ++i) {
    if (c.moving_from[i].id <= c.moving_from[i - 1].id)
      return Status::Error(EINVAL, "the servers chunks move from are repeated or out of order");
  }
  for (size_t i = 0; i < c.retired.size(); ++i) {
    const RetiredServer& r = c.retired[i];
    if (r.id == 0 || (i > 0 && r.id <= c.retired[i - 1].id) || c.Find(r.id))
      return Status::Error(
          EINVAL,
          fmt::format("retired server {} is zero, repeated, out of order or a member", r.id));
    if (!c.Find(r.host))
      return Status::Error(
          EINVAL,
          fmt::format("retired server {} is hosted by {}, which is no member", r.id, r.host));
    if (r.from != 0 && !c.Leaving(r.from))
      return Status::Error(
          EINVAL,
          fmt::format("retired server {} moves from {}, which is not leaving", r.id, r.from));
  }
  return Status::Ok();
}

Result<ClusterConfig> ParseClusterConfig(std::string_view text, const std::string& source,
                                         const std::string& base_dir) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return ErrorAt(source, e.source(), std::string(e.description()));
  }
  if (Status s = CheckKnownKeys(
          root, {"version", "chunk_size", "root_server", "secret_file", "server"}, source);
      !s.ok())
    return s;

  ClusterConfig cfg;
  int64_t v = 0;
  if (Status s = ReadInt(root, "version", 1, INT64_MAX, true, source, &v); !s.ok()) return s;
  cfg.version = static_cast<uint64_t>(v);
  int64_t chunk = kDefaultChunkSize;
  if (Status s = ReadInt(root, "chunk_size", 64 << 10, 64 << 20, false, source, &chunk); !s.ok())
    return s;
  if (chunk & (chunk - 1))
    return ErrorAt(source, root.get("chunk_size")->source(), "'chunk_size' must be a power of two");
  cfg.chunk_size = static_cast<uint64_t>(chunk);

  const toml::array* servers = root["server"].as_array();
  if (!servers || servers->empty())
    return ErrorAt(source, root.source(), "no [[server]] entries: a cluster needs at least one");

  std::set<ServerId> ids;
  std::set<std::pair<std::string, uint16_t>> endpoints;
  for (const toml::node& node : *servers) {
    const toml::table* t = node.as_table();
    if (!t) return ErrorAt(source, node.source(), "'server' must be an array of tables");
    if (Status s = CheckKnownKeys(*t, {"id", "address", "port", "udp_port", "data_dir"}, source);
        !s.ok())
      return s;
    ServerInfo info;
    int64_t id = 0, port = 0, udp_port = 0;
    if (Status s = ReadInt(*t, "id", 1, 65535, true, source, &id); !s.ok()) return s;
    if (Status s = ReadInt(*t, "port", 1, 65535, true, source, &port); !s.ok()) return s;
    if (Status s = ReadInt(*t, "udp_port", 1, 65535, false, source, &udp_port); !s.ok()) return s;
    if (Status s = ReadString(*t, "address", true, source, &info.address); !s.ok()) return s;
    if (Status s = ReadString(*t, "data_dir", false, source, &info.data_dir); !s.ok()) return s;
    info.id = static_cast<ServerId>(id);
    info.port = static_cast<uint16_t>(port);
    info.udp_port = static_cast<uint16_t>(udp_port);
    if (!ids.insert(info.id).second)
      return ErrorAt(source, t->source(), fmt::format("server id {} is listed twice", id));
    if (!endpoints.insert({info.address, info.port}).second)
      return ErrorAt(source, t->source(),
                     fmt::format("address {}:{} is listed twice", info.address, info.port));
    cfg.servers.push_back(std::move(info));
  }
  std::sort(cfg.servers.begin(), cfg.servers.end(),
            [](const ServerInfo& a, const ServerInfo& b) { return a.id < b.id; });

  int64_t root_server = cfg.servers.front().id;
  if (Status s = ReadInt(root, "root_server", 1, 65535, false, source, &root_server); !s.ok())
    return s;
  cfg.root_server = static_cast<ServerId>(root_server);
  if (!cfg.Find(cfg.root_server))
    return ErrorAt(source, root.get("root_server")->source(),
                   fmt::format("root_server {} is not a listed server", root_server));
  if (Status s = ReadString(root, "secret_file", false, source, &cfg.secret_file); !s.ok())
    return s;
  if (!cfg.secret_file.empty())
    cfg.secret_file = (std::filesystem::absolute(base_dir) / cfg.secret_file).lexically_normal();
  return cfg;
}

Result<ClusterConfig> LoadClusterConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::Error(ENOENT, fmt::format("cannot read cluster file {}", path));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string dir = std::filesystem::path(path).parent_path().string();
  return ParseClusterConfig(ss.str(), path, dir.empty() ? "." : dir);
}

}  // namespace sealfs
