#pragma once
/// MemoryRegion: memory registered with UCX so that a peer can read it with an RMA get.
///
///   auto region = transport.RegisterMemory(buffer, size);
///   send(region->rkey(), region->address());   // the peer calls transport.Get(...)
///   // the registration ends when the region is destroyed
///
/// Thread contract: immutable after creation; destroy it from any thread.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace prism::transport {

class MemoryRegion {
 public:
  MemoryRegion(const MemoryRegion&) = delete;
  MemoryRegion& operator=(const MemoryRegion&) = delete;
  ~MemoryRegion();

  uint64_t address() const { return address_; }
  size_t size() const { return size_; }
  /// Packed remote key, to be sent to peers.
  std::span<const std::byte> rkey() const { return rkey_; }

 private:
  friend class Transport;
  MemoryRegion(void* context, void* memh, uint64_t address, size_t size,
               std::vector<std::byte> rkey)
      : context_(context), memh_(memh), address_(address), size_(size), rkey_(std::move(rkey)) {}

  void* context_;  // ucp_context_h
  void* memh_;     // ucp_mem_h
  uint64_t address_;
  size_t size_;
  std::vector<std::byte> rkey_;
};

}  // namespace prism::transport
