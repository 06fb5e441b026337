#include "prism/objstore/object_store.h"

namespace prism::objstore {

void ObjectStore::Add(const ObjectId& id, std::shared_ptr<ObjectBuffer> buffer, bool primary) {
  size_t bytes = buffer->size();
  bool added = false;
  bool promoted = false;
  {
    Shard& shard = ShardOf(id);
    std::lock_guard lock(shard.mu);
    auto [it, inserted] = shard.objects.try_emplace(id, Entry{std::move(buffer), primary});
    added = inserted;
    if (!inserted && primary && !it->second.primary) {
      it->second.primary = true;
      promoted = true;
    }
  }
  if (!added && !promoted) return;
  bool evict = false;
  {
    std::lock_guard lock(accounting_mu_);
    if (added) {
      ++stats_.objects;
      if (primary) {
        stats_.primary_bytes += bytes;
      } else {
        stats_.secondary_bytes += bytes;
        secondary_order_.push_back(id);
        evict = stats_.secondary_bytes > options_.secondary_budget_bytes;
      }
    } else {
      stats_.secondary_bytes -= bytes;
      stats_.primary_bytes += bytes;
    }
  }
  if (evict) EvictSecondaries();
}

std::shared_ptr<ObjectBuffer> ObjectStore::Find(const ObjectId& id) const {
  Shard& shard = ShardOf(id);
  std::lock_guard lock(shard.mu);
  auto it = shard.objects.find(id);
  return it == shard.objects.end() ? nullptr : it->second.buffer;
}

bool ObjectStore::Remove(const ObjectId& id) {
  Entry entry;
  {
    Shard& shard = ShardOf(id);
    std::lock_guard lock(shard.mu);
    auto it = shard.objects.find(id);
    if (it == shard.objects.end()) return false;
    entry = std::move(it->second);
    shard.objects.erase(it);
  }
  std::lock_guard lock(accounting_mu_);
  --stats_.objects;
  (entry.primary ? stats_.primary_bytes : stats_.secondary_bytes) -= entry.buffer->size();
  if (!entry.primary && secondary_order_.size() > 2 * stats_.objects + 1024) {
    // Removed copies leave stale ids in the eviction queue; keep it proportional to the store.
    // (No path holds a shard lock while taking accounting_mu_, so this nesting is safe.)
    std::deque<ObjectId> live;
    for (const ObjectId& queued : secondary_order_) {
      Shard& shard = ShardOf(queued);
      std::lock_guard shard_lock(shard.mu);
      auto it = shard.objects.find(queued);
      if (it != shard.objects.end() && !it->second.primary) live.push_back(queued);
    }
    secondary_order_.swap(live);
  }
  return true;
}

void ObjectStore::EvictSecondaries() {
  // Oldest first; ids in the queue may have been removed or promoted since.
  while (true) {
    ObjectId victim;
    {
      std::lock_guard lock(accounting_mu_);
      if (stats_.secondary_bytes <= options_.secondary_budget_bytes || secondary_order_.empty()) return;
      victim = secondary_order_.front();
      secondary_order_.pop_front();
    }
    Shard& shard = ShardOf(victim);
    std::shared_ptr<ObjectBuffer> dropped;
    {
      std::lock_guard lock(shard.mu);
      auto it = shard.objects.find(victim);
      if (it == shard.objects.end() || it->second.primary) continue;
      dropped = std::move(it->second.buffer);
      shard.objects.erase(it);
    }
    std::lock_guard lock(accounting_mu_);
    --stats_.objects;
    stats_.secondary_bytes -= dropped->size();
    ++stats_.evicted;
  }
}

ObjectStore::Stats ObjectStore::stats() const {
  std::lock_guard lock(accounting_mu_);
  return stats_;
}

}  // namespace prism::objstore
