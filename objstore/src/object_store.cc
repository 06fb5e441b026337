#include "prism/objstore/object_store.h"

#include <vector>

namespace prism::objstore {

void ObjectStore::Add(const ObjectId& id, std::shared_ptr<ObjectBuffer> buffer, bool primary) {
  std::vector<std::shared_ptr<ObjectBuffer>> evicted;
  std::lock_guard lock(mu_);
  auto [it, inserted] = objects_.try_emplace(id);
  Entry& e = it->second;
  if (!inserted) {
    if (primary && !e.primary) {
      secondaries_.erase(e.age);
      e.primary = true;
      stats_.secondary_bytes -= e.buffer->size();
      stats_.primary_bytes += e.buffer->size();
    }
    return;
  }
  e.buffer = std::move(buffer);
  e.primary = primary;
  ++stats_.objects;
  if (primary) {
    stats_.primary_bytes += e.buffer->size();
    return;
  }
  stats_.secondary_bytes += e.buffer->size();
  e.age = secondaries_.insert(secondaries_.end(), id);
  // Over the budget: drop the oldest secondary copies (they can be pulled again).
  while (stats_.secondary_bytes > options_.secondary_budget_bytes && !secondaries_.empty()) {
    auto victim = objects_.find(secondaries_.front());
    secondaries_.pop_front();
    stats_.secondary_bytes -= victim->second.buffer->size();
    --stats_.objects;
    ++stats_.evicted;
    evicted.push_back(std::move(victim->second.buffer));
    objects_.erase(victim);
  }
  // `evicted` is released after the lock (declared before it).
}

std::shared_ptr<ObjectBuffer> ObjectStore::Find(const ObjectId& id) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(id);
  return it == objects_.end() ? nullptr : it->second.buffer;
}

bool ObjectStore::Remove(const ObjectId& id) {
  std::shared_ptr<ObjectBuffer> released;
  std::lock_guard lock(mu_);
  auto it = objects_.find(id);
  if (it == objects_.end()) return false;
  Entry& e = it->second;
  if (e.primary) {
    stats_.primary_bytes -= e.buffer->size();
  } else {
    stats_.secondary_bytes -= e.buffer->size();
    secondaries_.erase(e.age);
  }
  --stats_.objects;
  released = std::move(e.buffer);
  objects_.erase(it);
  return true;
}

ObjectStore::Stats ObjectStore::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace prism::objstore
