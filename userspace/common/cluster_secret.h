// ClusterSecret: the key that lets servers tell the loader's requests from
// anybody else's (docs/operations.md, "The cluster secret").
//
// The secret is 32 random bytes kept as 64 hex digits in a file that only its
// owner may read (mode 0600 or stricter), named by the cluster file's
// `secret_file`. Membership records and administrative requests carry an
// HMAC-SHA256 over their bytes made with it; a server acts on them only when
// the MAC matches.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "status.h"

namespace sealfs {

class ClusterSecret {
 public:
  static constexpr size_t kBytes = 32;
  using Mac = std::array<uint8_t, 32>;

  // Reads a secret file. Refuses one that others may read or write, or
  // that does not hold exactly 64 hex digits (and an optional newline); the
  // error names the file.
  static Result<ClusterSecret> Load(const std::string& path);
  // Writes a new random secret to `path` with mode 0600; refuses to
  // overwrite an existing file.
  static Result<ClusterSecret> CreateFile(const std::string& path);

  // HMAC-SHA256 of `domain` (what the bytes are, so that a MAC made for one
  // purpose never verifies for another) followed by `bytes`.
  Mac Sign(std::string_view domain, std::string_view bytes) const;
  // Constant-time comparison of `mac` with Sign(domain, bytes).
  bool Verify(std::string_view domain, std::string_view bytes, std::string_view mac) const;

 private:
  std::array<uint8_t, kBytes> key_{};
};

}  // namespace sealfs
