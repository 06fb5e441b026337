#include "prism/objstore/object_buffer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace prism::objstore {
namespace {

std::span<const std::byte> Bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

std::string Text(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

TEST(ObjectBufferTest, MetadataUpToTheLimitIsKept) {
  auto pool = BufferPool::Create({});
  std::string meta(ObjectBuffer::kMaxMetadata, 'm');
  meta[0] = 'a';
  auto buffer = ObjectBuffer::Create(pool, 10, Bytes(meta));
  EXPECT_EQ(Text(buffer->metadata()), meta);
  EXPECT_EQ(buffer->size(), 10u);
  auto no_meta = ObjectBuffer::Create(pool, 10, {});
  EXPECT_TRUE(no_meta->metadata().empty());
}

TEST(ObjectBufferTest, MetadataOverTheLimitThrowsLengthError) {
  auto pool = BufferPool::Create({});
  std::string meta(ObjectBuffer::kMaxMetadata + 1, 'm');
  EXPECT_THROW(ObjectBuffer::Create(pool, 10, Bytes(meta)), std::length_error);
  EXPECT_THROW(ObjectBuffer::CopyOf(pool, Bytes(meta), Bytes("data")), std::length_error);
  EXPECT_EQ(pool->stats().allocated_bytes, 0u) << "a rejected buffer took pool memory";
}

TEST(ObjectBufferTest, CopyOfCopiesDataAndMetadata) {
  auto pool = BufferPool::Create({});
  std::string data = "the object's bytes";
  auto buffer = ObjectBuffer::CopyOf(pool, Bytes("meta"), Bytes(data));
  data[0] = 'X';  // the copy does not alias its source
  EXPECT_EQ(Text(buffer->data()), "the object's bytes");
  EXPECT_EQ(Text(buffer->metadata()), "meta");
  EXPECT_EQ(buffer->size(), data.size());
}

TEST(ObjectBufferTest, EmptyObjectHasAValidEmptySpan) {
  auto pool = BufferPool::Create({});
  auto buffer = ObjectBuffer::CopyOf(pool, Bytes("m"), {});
  EXPECT_EQ(buffer->size(), 0u);
  EXPECT_TRUE(buffer->data().empty());
  EXPECT_NE(buffer->mutable_data(), nullptr);
  EXPECT_EQ(buffer->block(), nullptr);
}

TEST(ObjectBufferTest, SmallBuffersLiveOutsideThePool) {
  auto pool = BufferPool::Create({});
  auto buffer = ObjectBuffer::Create(pool, 100, {});
  EXPECT_EQ(buffer->block(), nullptr);
  EXPECT_EQ(pool->stats().allocated_bytes, 0u);
  EXPECT_EQ(buffer->pool(), pool);
}

TEST(ObjectBufferTest, LargeBuffersUsePoolBlocksAndGiveThemBack) {
  auto pool = BufferPool::Create({});
  {
    auto buffer = ObjectBuffer::Create(pool, 1 << 20, {});
    ASSERT_NE(buffer->block(), nullptr);
    EXPECT_EQ(buffer->mutable_data(), buffer->block()->data());
    EXPECT_EQ(buffer->data().data(), buffer->block()->data());
    EXPECT_GE(buffer->block()->capacity(), size_t{1} << 20);
    EXPECT_EQ(pool->stats().allocated_bytes, buffer->block()->capacity());
    std::memset(buffer->mutable_data(), 7, buffer->size());
  }
  EXPECT_EQ(pool->stats().allocated_bytes, 0u);
  EXPECT_EQ(pool->stats().cached_bytes, BufferPool::ClassCapacity(1 << 20));
  auto again = ObjectBuffer::Create(pool, 1 << 20, {});
  EXPECT_EQ(pool->stats().reused, 1u);
}

TEST(ObjectBufferTest, WithoutAPoolEverythingIsHeap) {
  auto buffer = ObjectBuffer::CopyOf(nullptr, {}, std::vector<std::byte>(1 << 20, std::byte{3}));
  EXPECT_EQ(buffer->block(), nullptr);
  EXPECT_EQ(buffer->size(), size_t{1} << 20);
  EXPECT_EQ(buffer->data()[12345], std::byte{3});
}

TEST(ObjectBufferTest, TheLastHolderReturnsTheBlock) {
  auto pool = BufferPool::Create({});
  auto buffer = ObjectBuffer::Create(pool, 1 << 20, {});
  std::shared_ptr<ObjectBuffer> reader = buffer;
  buffer.reset();
  EXPECT_GT(pool->stats().allocated_bytes, 0u) << "freed while a reader still holds it";
  reader.reset();
  EXPECT_EQ(pool->stats().allocated_bytes, 0u);
}

}  // namespace
}  // namespace prism::objstore
