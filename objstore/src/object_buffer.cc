#include "prism/objstore/object_buffer.h"

#include <cstring>
#include <stdexcept>

namespace prism::objstore {

std::shared_ptr<ObjectBuffer> ObjectBuffer::Create(const std::shared_ptr<BufferPool>& pool,
                                                   size_t data_size,
                                                   std::span<const std::byte> metadata) {
  if (metadata.size() > kMaxMetadata)
    throw std::length_error("object metadata longer than 32 bytes");
  std::shared_ptr<ObjectBuffer> buffer(new ObjectBuffer());
  buffer->pool_ = pool;
  buffer->size_ = data_size;
  if (pool != nullptr && data_size >= BufferPool::ClassCapacity(1)) {
    buffer->block_ = pool->Allocate(data_size);
    buffer->data_ = buffer->block_->data();
  } else {
    buffer->small_.reset(new std::byte[std::max<size_t>(data_size, 1)]);
    buffer->data_ = buffer->small_.get();
  }
  if (!metadata.empty()) std::memcpy(buffer->metadata_.data(), metadata.data(), metadata.size());
  buffer->metadata_size_ = metadata.size();
  return buffer;
}

std::shared_ptr<ObjectBuffer> ObjectBuffer::CopyOf(const std::shared_ptr<BufferPool>& pool,
                                                   std::span<const std::byte> metadata,
                                                   std::span<const std::byte> data) {
  auto buffer = Create(pool, data.size(), metadata);
  if (!data.empty()) std::memcpy(buffer->mutable_data(), data.data(), data.size());
  return buffer;
}

ObjectBuffer::~ObjectBuffer() {
  if (block_ != nullptr) pool_->Release(block_);
}

}  // namespace prism::objstore
