// sealfs_test_leveldb_delete <leveldb dir> <key in hex>: deletes one key from the LevelDB of
// a stopped server, so that the fsck tests can damage a cluster precisely. Fails (exit 1) if
// the key is not there.
#include <leveldb/db.h>

#include <cstdio>
#include <memory>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <leveldb dir> <key in hex>\n", argv[0]);
    return 2;
  }
  const std::string hex = argv[2];
  std::string key;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    key.push_back(static_cast<char>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  leveldb::DB* raw = nullptr;
  leveldb::Status s = leveldb::DB::Open(leveldb::Options(), argv[1], &raw);
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", argv[1], s.ToString().c_str());
    return 1;
  }
  std::unique_ptr<leveldb::DB> db(raw);
  std::string value;
  s = db->Get(leveldb::ReadOptions(), key, &value);
  if (s.ok()) {
    leveldb::WriteOptions wo;
    wo.sync = true;
    s = db->Delete(wo, key);
  }
  if (!s.ok()) {
    std::fprintf(stderr, "%s: key %s: %s\n", argv[1], hex.c_str(), s.ToString().c_str());
    return 1;
  }
  return 0;
}
