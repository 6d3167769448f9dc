#include "status.h"

#include <cstring>

namespace sealfs {

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s = std::strerror(err_);
  if (!msg_.empty()) s += ": " + msg_;
  return s;
}

}  // namespace sealfs
