#pragma once
/// ObjectStore: this rank's objects, by id.
///
/// A primary copy is where an object was made (a Put, or a large task result); it stays until
/// its owner frees it. A secondary copy was pulled from another rank; secondary copies are
/// dropped oldest-first once they exceed their byte budget (they can be pulled again).
///
///   store.Add(id, buffer, /*primary=*/true);
///   if (auto buf = store.Find(id)) Read(buf->data());
///   store.Remove(id);
///
/// Thread-safe.

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "prism/common/ids.h"
#include "prism/objstore/object_buffer.h"

namespace prism::objstore {

struct ObjectStoreOptions {
  size_t secondary_budget_bytes = size_t{1} << 30;  ///< Most bytes of pulled copies kept.
};

class ObjectStore {
 public:
  explicit ObjectStore(const ObjectStoreOptions& options) : options_(options) {}

  /// Adds an object; an existing entry is kept (objects are immutable), but a primary add
  /// promotes a secondary copy.
  void Add(const ObjectId& id, std::shared_ptr<ObjectBuffer> buffer, bool primary);
  /// The local copy, or null.
  std::shared_ptr<ObjectBuffer> Find(const ObjectId& id) const;
  bool Contains(const ObjectId& id) const { return Find(id) != nullptr; }
  /// Drops the local copy; true if there was one.
  bool Remove(const ObjectId& id);

  struct Stats {
    uint64_t objects = 0;
    uint64_t primary_bytes = 0;
    uint64_t secondary_bytes = 0;
    uint64_t evicted = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    std::shared_ptr<ObjectBuffer> buffer;
    bool primary = false;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<ObjectId, Entry> objects;
  };
  static constexpr size_t kShards = 16;
  Shard& ShardOf(const ObjectId& id) const { return shards_[std::hash<ObjectId>{}(id) % kShards]; }
  void EvictSecondaries();

  ObjectStoreOptions options_;
  mutable std::array<Shard, kShards> shards_;
  mutable std::mutex accounting_mu_;
  std::deque<ObjectId> secondary_order_;  // insertion order of secondary copies
  Stats stats_;
};

}  // namespace prism::objstore
