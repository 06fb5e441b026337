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

#include <cstdint>
#include <list>
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
    std::list<ObjectId>::iterator age;  // position in secondaries_ (secondary copies only)
  };

  // One lock for the map, the age list and the counters, so they never disagree. Buffers that
  // leave the store are released after the lock (returning memory to the pool takes time).
  mutable std::mutex mu_;
  ObjectStoreOptions options_;
  std::unordered_map<ObjectId, Entry> objects_;
  std::list<ObjectId> secondaries_;  // oldest first
  Stats stats_;
};

}  // namespace prism::objstore
