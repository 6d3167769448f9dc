// Little-endian encoding of protocol payloads. Writer appends to a byte
// vector; Reader consumes a byte span and turns every overrun into a sticky
// failure (ok() == false) instead of reading out of bounds, so decoders can
// read all fields and check once at the end.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sealfs {

class Writer {
 public:
  explicit Writer(std::vector<uint8_t>* out) : out_(out) {}
  void U8(uint8_t v) { out_->push_back(v); }
  void U16(uint16_t v) { Raw(&v, sizeof v); }
  void U32(uint32_t v) { Raw(&v, sizeof v); }
  void U64(uint64_t v) { Raw(&v, sizeof v); }
  void I64(int64_t v) { Raw(&v, sizeof v); }
  // Length-prefixed (u32) byte string.
  void Bytes(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    Raw(s.data(), s.size());
  }
  void Raw(const void* p, size_t n) {
    if (n == 0) return;
    // resize + memcpy rather than insert(): GCC 12 warns falsely about
    // insert() into an empty vector (-Wstringop-overflow).
    size_t at = out_->size();
    out_->resize(at + n);
    std::memcpy(out_->data() + at, p, n);
  }

 private:
  std::vector<uint8_t>* out_;  // little-endian host assumed (x86-64, arm64)
};

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}
  uint8_t U8() { return Fixed<uint8_t>(); }
  uint16_t U16() { return Fixed<uint16_t>(); }
  uint32_t U32() { return Fixed<uint32_t>(); }
  uint64_t U64() { return Fixed<uint64_t>(); }
  int64_t I64() { return Fixed<int64_t>(); }
  // A u32-prefixed byte string of at most max_len bytes; a view into the input.
  std::string_view Bytes(size_t max_len) {
    uint32_t n = U32();
    if (!ok_ || n > max_len || n > Remaining()) {
      ok_ = false;
      return {};
    }
    std::string_view s(reinterpret_cast<const char*>(in_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  size_t Remaining() const { return in_.size() - pos_; }
  void Fail() { ok_ = false; }
  // True when no read overran and the whole input was consumed.
  bool Done() const { return ok_ && pos_ == in_.size(); }
  bool ok() const { return ok_; }

 private:
  template <typename T>
  T Fixed() {
    T v{};
    if (!ok_ || Remaining() < sizeof(T)) {
      ok_ = false;
      return v;
    }
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace sealfs
