#pragma once
/// ObjectBuffer: the bytes of one immutable object, a small metadata part and the data.
///
/// The creator fills mutable_data() before anyone else sees the buffer; after that it is
/// read-only and shared (std::shared_ptr) by the store, readers and transfers alike, so a local
/// read is zero-copy.
///
///   auto buf = ObjectBuffer::Create(pool, bytes.size(), meta);
///   std::memcpy(buf->mutable_data(), bytes.data(), bytes.size());
///   store.Add(id, buf, /*primary=*/true);
///
/// Thread contract: immutable once published; freed (back to the pool) by the last holder.

#include <array>
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "prism/common/ids.h"
#include "prism/objstore/buffer_pool.h"

namespace prism::objstore {

class ObjectBuffer {
 public:
  /// Longest metadata part.
  static constexpr size_t kMaxMetadata = 32;

  /// A buffer with `data_size` uninitialised data bytes (pool memory for large sizes).
  /// Throws std::length_error when metadata is longer than kMaxMetadata.
  static std::shared_ptr<ObjectBuffer> Create(const std::shared_ptr<BufferPool>& pool,
                                              size_t data_size,
                                              std::span<const std::byte> metadata);
  /// A buffer holding a copy of `data`.
  static std::shared_ptr<ObjectBuffer> CopyOf(const std::shared_ptr<BufferPool>& pool,
                                              std::span<const std::byte> metadata,
                                              std::span<const std::byte> data);
  ~ObjectBuffer();
  ObjectBuffer(const ObjectBuffer&) = delete;
  ObjectBuffer& operator=(const ObjectBuffer&) = delete;

  std::span<const std::byte> data() const { return {data_, size_}; }
  /// Writable data; only for the creator, before the buffer is published.
  std::byte* mutable_data() { return data_; }
  std::span<const std::byte> metadata() const { return {metadata_.data(), metadata_size_}; }
  size_t size() const { return size_; }
  /// The pool block behind a large buffer (null for small ones).
  Block* block() const { return block_; }
  const std::shared_ptr<BufferPool>& pool() const { return pool_; }

  /// The ObjectRefs serialized inside this object, recorded by its creator (empty for copies
  /// that arrived from another rank), and what keeps them alive until the object's owner has
  /// recorded them: `hold` lives as long as this buffer.
  void SetContainedRefs(std::vector<ObjectId> ids, std::shared_ptr<const void> hold) {
    contained_refs_ = std::move(ids);
    contained_hold_ = std::move(hold);
  }
  const std::vector<ObjectId>& contained_refs() const { return contained_refs_; }
  const std::shared_ptr<const void>& contained_hold() const { return contained_hold_; }

 private:
  ObjectBuffer() = default;

  std::shared_ptr<BufferPool> pool_;
  Block* block_ = nullptr;
  std::unique_ptr<std::byte[]> small_;
  std::byte* data_ = nullptr;
  size_t size_ = 0;
  std::array<std::byte, kMaxMetadata> metadata_{};
  size_t metadata_size_ = 0;
  std::vector<ObjectId> contained_refs_;
  std::shared_ptr<const void> contained_hold_;
};

}  // namespace prism::objstore
