#pragma once
/// Little-endian binary encoding for wire messages, with bounds-checked decoding.
///
/// The reader never trusts its input: a read past the end sets a sticky failure flag and returns
/// zero/empty values, so a decoder reads everything and checks ok() once at the end.
///
///   std::vector<std::byte> buf;
///   WireWriter w(buf);
///   w.U32(7); w.String("hello");
///   WireReader r(buf);
///   uint32_t n = r.U32(); std::string s = r.String();
///   if (!r.AtEnd()) return MakeError(ErrorCode::kMalformed, "...");

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "prism/common/ids.h"

namespace prism {

static_assert(std::endian::native == std::endian::little,
              "the wire format assumes little-endian hosts");

/// Appends encoded values to a byte vector. Not thread-safe.
class WireWriter {
 public:
  explicit WireWriter(std::vector<std::byte>& out) : out_(out) {}

  void U8(uint8_t v) { Put(&v, sizeof v); }
  void U16(uint16_t v) { Put(&v, sizeof v); }
  void U32(uint32_t v) { Put(&v, sizeof v); }
  void U64(uint64_t v) { Put(&v, sizeof v); }
  void I32(int32_t v) { Put(&v, sizeof v); }
  void I64(int64_t v) { Put(&v, sizeof v); }
  void F64(double v) { Put(&v, sizeof v); }
  void Bool(bool v) { U8(v ? 1 : 0); }
  /// u32 length, then the bytes.
  void Bytes(std::span<const std::byte> b) {
    U32(static_cast<uint32_t>(b.size()));
    Put(b.data(), b.size());
  }
  void String(std::string_view s) { Bytes(std::as_bytes(std::span(s.data(), s.size()))); }
  void Object(const ObjectId& id) {
    I32(id.owner);
    U32(id.index);
    U64(id.seq);
  }
  void Task(const TaskId& id) {
    I32(id.owner);
    U64(id.seq);
  }
  /// Bytes without a length prefix.
  void Put(const void* data, size_t n) {
    size_t at = out_.size();
    out_.resize(at + n);
    if (n != 0) std::memcpy(out_.data() + at, data, n);
  }
  size_t size() const { return out_.size(); }

 private:
  std::vector<std::byte>& out_;
};

/// Reads values written by WireWriter from an untrusted span. Not thread-safe.
class WireReader {
 public:
  explicit WireReader(std::span<const std::byte> in) : in_(in) {}

  uint8_t U8() { return Get<uint8_t>(); }
  uint16_t U16() { return Get<uint16_t>(); }
  uint32_t U32() { return Get<uint32_t>(); }
  uint64_t U64() { return Get<uint64_t>(); }
  int32_t I32() { return Get<int32_t>(); }
  int64_t I64() { return Get<int64_t>(); }
  double F64() { return Get<double>(); }
  bool Bool() {
    uint8_t v = U8();
    if (v > 1) ok_ = false;
    return v == 1;
  }
  /// A view into the input (valid as long as the input is).
  std::span<const std::byte> Bytes() {
    uint32_t n = U32();
    if (!ok_ || n > remaining()) {
      ok_ = false;
      return {};
    }
    auto out = in_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  std::string String() {
    auto b = Bytes();
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
  }
  ObjectId Object() {
    ObjectId id;
    id.owner = I32();
    id.index = U32();
    id.seq = U64();
    return id;
  }
  TaskId Task() {
    TaskId id;
    id.owner = I32();
    id.seq = U64();
    return id;
  }
  /// A count of items that each take at least `min_item_bytes`: rejects counts the input cannot
  /// hold, so a forged count never drives a huge allocation.
  uint32_t Count(size_t min_item_bytes) {
    uint32_t n = U32();
    if (ok_ && min_item_bytes != 0 && n > remaining() / min_item_bytes) ok_ = false;
    return ok_ ? n : 0;
  }

  bool ok() const { return ok_; }
  bool AtEnd() const { return ok_ && pos_ == in_.size(); }
  size_t remaining() const { return in_.size() - pos_; }
  /// Marks the input malformed (a decoder found a value out of range).
  void Fail() { ok_ = false; }

 private:
  template <typename T>
  T Get() {
    T v{};
    if (!ok_ || remaining() < sizeof(T)) {
      ok_ = false;
      return v;
    }
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::span<const std::byte> in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace prism
