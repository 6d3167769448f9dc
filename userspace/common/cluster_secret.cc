#include "cluster_secret.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "unique_fd.h"

namespace sealfs {
namespace {

constexpr size_t kHexDigits = 2 * ClusterSecret::kBytes;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<ClusterSecret> ClusterSecret::Load(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0)
    return Status::Error(errno,
                         fmt::format("cannot read secret file {}: {}", path, strerror(errno)));
  struct stat st;
  if (fstat(fd.get(), &st) != 0)
    return Status::Error(errno,
                         fmt::format("cannot stat secret file {}: {}", path, strerror(errno)));
  if (!S_ISREG(st.st_mode))
    return Status::Error(EINVAL, fmt::format("secret file {} is not a regular file", path));
  if (st.st_mode & (S_IRWXG | S_IRWXO))
    return Status::Error(EPERM, fmt::format("secret file {} is open to others (mode {:o}); "
                                            "chmod 600 it",
                                            path, st.st_mode & 07777));
  char text[kHexDigits + 2];
  ssize_t n = read(fd.get(), text, sizeof text);
  if (n < 0)
    return Status::Error(errno,
                         fmt::format("cannot read secret file {}: {}", path, strerror(errno)));
  size_t len = static_cast<size_t>(n);
  if (len == kHexDigits + 1 && text[kHexDigits] == '\n') len = kHexDigits;
  ClusterSecret secret;
  bool hex = len == kHexDigits;
  for (size_t i = 0; hex && i < kBytes; ++i) {
    int hi = HexValue(text[2 * i]), lo = HexValue(text[2 * i + 1]);
    hex = hi >= 0 && lo >= 0;
    secret.key_[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  if (!hex)
    return Status::Error(EINVAL, fmt::format("secret file {} must hold {} hex digits "
                                             "(sealfs-loader secret new makes one)",
                                             path, kHexDigits));
  return secret;
}

Result<ClusterSecret> ClusterSecret::CreateFile(const std::string& path) {
  ClusterSecret secret;
  if (RAND_bytes(secret.key_.data(), kBytes) != 1)
    return Status::Error(EIO, "no random bytes for a secret");
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0)
    return Status::Error(errno,
                         fmt::format("cannot create secret file {}: {}", path, strerror(errno)));
  std::string text;
  for (uint8_t b : secret.key_) text += fmt::format("{:02x}", b);
  text += '\n';
  if (write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      fsync(fd.get()) != 0) {
    int err = errno ? errno : EIO;
    unlink(path.c_str());
    return Status::Error(err, fmt::format("cannot write secret file {}: {}", path, strerror(err)));
  }
  return secret;
}

ClusterSecret::Mac ClusterSecret::Sign(std::string_view domain, std::string_view bytes) const {
  // The domain is length-prefixed so that no (domain, bytes) pair can be
  // read as another.
  std::string message;
  uint32_t domain_len = static_cast<uint32_t>(domain.size());
  message.append(reinterpret_cast<const char*>(&domain_len), sizeof domain_len);
  message.append(domain);
  message.append(bytes);
  Mac mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(), &len);
  return mac;
}

bool ClusterSecret::Verify(std::string_view domain, std::string_view bytes,
                           std::string_view mac) const {
  if (mac.size() != sizeof(Mac)) return false;
  Mac expected = Sign(domain, bytes);
  return CRYPTO_memcmp(expected.data(), mac.data(), expected.size()) == 0;
}

}  // namespace sealfs
