// Status: the result of an operation that can fail, as an errno value plus a
// human-readable message. Used across module boundaries instead of exceptions
// (the LevelDB style). errno is the natural currency of a POSIX file system:
// every failure ends up as an errno in a FUSE reply.
#pragma once

#include <cerrno>
#include <string>
#include <utility>

namespace sealfs {

class Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(int err, std::string msg = {}) { return Status(err, std::move(msg)); }

  bool ok() const { return err_ == 0; }
  // Positive errno value; 0 when ok().
  int err() const { return err_; }
  const std::string& message() const { return msg_; }
  std::string ToString() const;

 private:
  Status(int err, std::string msg) : err_(err), msg_(std::move(msg)) {}
  int err_ = 0;
  std::string msg_;
};

// Result<T>: a value or a failed Status.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  int err() const { return status_.err(); }
  T& value() { return value_; }
  const T& value() const { return value_; }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }
  T& operator*() { return value_; }

 private:
  Status status_;
  T value_{};
};

}  // namespace sealfs
