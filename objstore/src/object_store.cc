#include "prism/objstore/object_store.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>

#include "prism/common/logging.h"
#include "prism/objstore/spill_file.h"

namespace prism::objstore {
namespace {

spdlog::logger& Log() {
  static spdlog::logger& logger = log::Get("objstore");
  return logger;
}

constexpr double kMiB = 1024.0 * 1024.0;

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// mkdir -p with mode 0700.
Status MakeDirectories(const std::string& dir) {
  for (size_t pos = 1; pos != std::string::npos;) {
    pos = dir.find('/', pos + 1);
    std::string path = dir.substr(0, pos);
    if (!path.empty() && mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
      return MakeError(ErrorCode::kIoError, fmt::format("cannot create spill directory {}: {}",
                                                        path, std::strerror(errno)));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<FsUsage> StatFileSystem(const std::string& directory) {
  struct statvfs st {};
  if (statvfs(directory.c_str(), &st) != 0) {
    return MakeError(ErrorCode::kIoError, fmt::format("cannot statvfs spill directory {}: {}",
                                                      directory, std::strerror(errno)));
  }
  return FsUsage{static_cast<uint64_t>(st.f_blocks) * st.f_frsize,
                 static_cast<uint64_t>(st.f_bavail) * st.f_frsize};
}

struct ObjectStore::SpillFile {
  std::string path;
  uint64_t live = 0;  // objects whose disk copy is in this file
};

ObjectStore::ObjectStore(const ObjectStoreOptions& options)
    : options_(options), directory_made_(options.spill_directories.size(), false) {
  stats_.capacity_bytes = options_.capacity_bytes;
  if (!options_.fs_usage) options_.fs_usage = StatFileSystem;
}

ObjectStore::~ObjectStore() {
  std::set<std::string> files;
  for (auto& [id, e] : objects_) {
    if (e.spill_file) files.insert(e.spill_file->path);
  }
  for (const std::string& file : files) {
    if (Status s = RemoveSpillFile(file); !s) Log().warn("{}", s.ToString());
  }
  for (size_t i = 0; i < options_.spill_directories.size(); ++i) {
    const std::string& dir = options_.spill_directories[i];
    if (rmdir(dir.c_str()) != 0 && errno != ENOENT && directory_made_[i]) {
      Log().warn("cannot remove spill directory {}: {}", dir, std::strerror(errno));
    }
  }
}

Status ObjectStore::Add(const ObjectId& id, std::shared_ptr<ObjectBuffer> buffer, CopyKind kind) {
  return AddImpl(id, std::move(buffer), kind == CopyKind::kPrimary, /*over_capacity_ok=*/false);
}

void ObjectStore::Add(const ObjectId& id, std::shared_ptr<ObjectBuffer> buffer, bool primary) {
  (void)AddImpl(id, std::move(buffer), primary, /*over_capacity_ok=*/true);
}

Status ObjectStore::AddImpl(const ObjectId& id, std::shared_ptr<ObjectBuffer> buffer, bool primary,
                            bool over_capacity_ok) {
  Released released;  // declared first: released after the locks
  {
    std::lock_guard lock(mu_);
    if (TryAddLocked(id, buffer, primary, released)) return Status::Ok();
  }
  // No room: one room maker at a time, its file I/O without the index lock.
  std::lock_guard room_lock(room_mu_);
  std::unique_lock lock(mu_);
  const uint64_t size = buffer->size();
  for (int attempt = 0; !TryAddLocked(id, buffer, primary, released); ++attempt) {
    // Adds that fitted while a spill was being written can take the room it made: try again.
    Status room =
        size > options_.capacity_bytes
            ? Status(MakeError(ErrorCode::kResourceExhausted,
                               FullMessage(id, size,
                                           "the object alone is larger than the "
                                           "store's capacity")))
        : attempt >= 3
            ? Status(MakeError(ErrorCode::kResourceExhausted,
                               FullMessage(id, resident_bytes() + size - options_.capacity_bytes,
                                           "other objects kept taking the room made")))
            : MakeRoom(lock, resident_bytes() + size - options_.capacity_bytes, id, released);
    if (!room) {
      if (!over_capacity_ok) return room;
      Log().warn("{}; keeping the object above the capacity", room.error().message);
      InsertLocked(id, std::move(buffer), primary, released);
      return Status::Ok();
    }
  }
  return Status::Ok();
}

bool ObjectStore::TryAddLocked(const ObjectId& id, std::shared_ptr<ObjectBuffer>& buffer,
                               bool primary, Released& released) {
  if (auto it = objects_.find(id); it != objects_.end()) {
    Entry& e = it->second;
    if (primary && !e.primary) {
      // Secondary copies are always resident (only primaries spill).
      secondaries_.erase(e.age);
      e.primary = true;
      e.age = primaries_.insert(primaries_.end(), id);
      stats_.secondary_bytes -= e.size;
      --stats_.secondary_objects;
      stats_.primary_bytes += e.size;
      ++stats_.primary_objects;
    }
    return true;
  }
  uint64_t size = buffer->size();
  if (!primary && size > options_.secondary_budget_bytes) {
    ++stats_.evicted;  // would be evicted at once by the budget
    released.push_back(std::move(buffer));
    return true;
  }
  if (resident_bytes() + size > options_.capacity_bytes) return false;
  InsertLocked(id, std::move(buffer), primary, released);
  return true;
}

void ObjectStore::InsertLocked(const ObjectId& id, std::shared_ptr<ObjectBuffer> buffer,
                               bool primary, Released& released) {
  auto [it, inserted] = objects_.try_emplace(id);
  Entry& e = it->second;
  e.primary = primary;
  e.size = buffer->size();
  std::span<const std::byte> meta = buffer->metadata();
  std::memcpy(e.metadata.data(), meta.data(), meta.size());
  e.metadata_size = static_cast<uint8_t>(meta.size());
  e.pool = buffer->pool();
  Resident(it, std::move(buffer));
  if (!primary) EvictSecondaryBudgetLocked(released);
}

void ObjectStore::Resident(Map::iterator it, std::shared_ptr<ObjectBuffer> buffer) {
  Entry& e = it->second;
  e.buffer = std::move(buffer);
  if (e.primary) {
    e.age = primaries_.insert(primaries_.end(), it->first);
    stats_.primary_bytes += e.size;
    ++stats_.primary_objects;
  } else {
    e.age = secondaries_.insert(secondaries_.end(), it->first);
    stats_.secondary_bytes += e.size;
    ++stats_.secondary_objects;
  }
  stats_.objects = stats_.primary_objects + stats_.secondary_objects;
}

void ObjectStore::DropFromMemory(Map::iterator it, Released& released) {
  Entry& e = it->second;
  if (e.primary) {
    primaries_.erase(e.age);
    stats_.primary_bytes -= e.size;
    --stats_.primary_objects;
  } else {
    secondaries_.erase(e.age);
    stats_.secondary_bytes -= e.size;
    --stats_.secondary_objects;
  }
  stats_.objects = stats_.primary_objects + stats_.secondary_objects;
  e.departed = e.buffer;  // alive while a reader still holds it
  released.push_back(std::move(e.buffer));
  e.buffer = nullptr;
}

void ObjectStore::DropDiskCopy(Entry& e) {
  if (!e.spill_file) return;
  stats_.spilled_bytes -= e.size;
  --stats_.spilled_objects;
  DropDatasetLocked(e.spill_file);
  e.spill_file.reset();
  e.dataset.clear();
}

void ObjectStore::DropDatasetLocked(const std::shared_ptr<SpillFile>& file) {
  if (--file->live == 0) {
    if (Status s = RemoveSpillFile(file->path); !s) Log().warn("{}", s.ToString());
    --stats_.spill_files;
  }
}

void ObjectStore::EvictSecondaryBudgetLocked(Released& released) {
  // Over the budget: drop the least recently used secondary copies (they can be pulled again).
  while (stats_.secondary_bytes > options_.secondary_budget_bytes && !secondaries_.empty()) {
    auto victim = objects_.find(secondaries_.front());
    DropFromMemory(victim, released);
    objects_.erase(victim);
    ++stats_.evicted;
  }
}

Status ObjectStore::MakeRoom(std::unique_lock<std::mutex>& lock, uint64_t need,
                             const ObjectId& for_id, Released& released) {
  // Choose first, change nothing until the room is certain. Copies nobody else holds go first
  // (dropping them frees memory now); copies in use by readers or transfers last (their memory
  // goes when the readers let go, and a Find meanwhile takes the reader's buffer back).
  struct Victim {
    ObjectId id;
    std::shared_ptr<ObjectBuffer> buffer;  // keeps the bytes alive while they are written
  };
  // Ids only while choosing: a captured buffer would count as in use in the second pass.
  std::vector<ObjectId> secondary_ids;
  std::vector<ObjectId> spill_ids;
  uint64_t freed = 0;
  bool spilling = !options_.spill_directories.empty();
  // Spill a little more than needed, so that a full store does not write a file per Add.
  uint64_t batch = std::min<uint64_t>(options_.min_spill_bytes, options_.capacity_bytes / 4);
  uint64_t spill_freed = 0;
  for (bool in_use : {false, true}) {
    for (const ObjectId& id : secondaries_) {
      if (freed >= need) break;
      const Entry& e = objects_.find(id)->second;
      if ((e.buffer.use_count() > 1) != in_use) continue;
      secondary_ids.push_back(id);
      freed += e.size;
    }
    if (!spilling) continue;
    for (const ObjectId& id : primaries_) {
      // The extra batch only from copies whose memory a spill frees now.
      if (freed >= need && (in_use || spill_freed >= batch)) break;
      const Entry& e = objects_.find(id)->second;
      if (e.size == 0 || (e.buffer.use_count() > 1) != in_use) continue;
      spill_ids.push_back(id);
      freed += e.size;
      spill_freed += e.size;
    }
  }
  if (freed < need) {
    std::string why =
        spilling ? "the primary copies cannot be spilled" : "spilling is off (no spill directory)";
    return MakeError(ErrorCode::kResourceExhausted, FullMessage(for_id, need, why));
  }
  auto capture = [this](const std::vector<ObjectId>& ids) {
    std::vector<Victim> out;
    for (const ObjectId& id : ids) out.push_back({id, objects_.find(id)->second.buffer});
    return out;
  };
  std::vector<Victim> secondaries = capture(secondary_ids);
  std::vector<Victim> spills = capture(spill_ids);
  std::vector<SpillItem> items;
  std::vector<ObjectId> written;
  uint64_t write_bytes = 0;
  for (const Victim& v : spills) {
    if (objects_.find(v.id)->second.spill_file) continue;  // its disk copy is still there
    items.push_back(SpillItem{std::to_string(items.size()), v.buffer->data()});
    written.push_back(v.id);
    write_bytes += v.buffer->size();
  }
  std::shared_ptr<SpillFile> file;
  if (!items.empty()) {
    // The victims stay resident and counted while their bytes are written; Finds and Adds that
    // fit go on meanwhile, and other room makers wait for room_mu_.
    lock.unlock();
    auto start = std::chrono::steady_clock::now();
    Result<std::shared_ptr<SpillFile>> made = WriteBatch(items, write_bytes);
    double seconds = Seconds(std::chrono::steady_clock::now() - start);
    lock.lock();
    if (!made) {
      return MakeError(ErrorCode::kResourceExhausted,
                       FullMessage(for_id, need, made.error().message));
    }
    file = *made;
    file->live = written.size();  // the datasets exist whether or not their objects still do
    ++stats_.spill_files;
    stats_.spilled_objects_total += items.size();
    stats_.spilled_bytes_total += write_bytes;
    stats_.spill_seconds_total += seconds;
    Log().info("Spilled {:.1f} MiB, {} objects, write throughput {:.0f} MiB/s (to {})",
               static_cast<double>(write_bytes) / kMiB, items.size(),
               static_cast<double>(write_bytes) / kMiB / std::max(seconds, 1e-9), file->path);
    // Spills are rare and cost a file write already: their record reaches the log file at once,
    // so that it survives a rank killed right after.
    Log().flush();
  }
  // Victims that were removed during the write are gone already; the rest leave memory now.
  auto current = [this](const Victim& v) {
    auto it = objects_.find(v.id);
    return it != objects_.end() && it->second.buffer == v.buffer ? it : objects_.end();
  };
  size_t index = 0;
  for (const Victim& v : spills) {
    auto it = current(v);
    bool was_written = index < written.size() && written[index] == v.id;
    if (was_written) {
      ++index;
      if (it == objects_.end()) {
        DropDatasetLocked(file);
        continue;
      }
      it->second.spill_file = file;
      it->second.dataset = items[index - 1].dataset;
      ++stats_.spilled_objects;
      stats_.spilled_bytes += it->second.size;
    }
    if (it != objects_.end()) DropFromMemory(it, released);
  }
  for (const Victim& v : secondaries) {
    auto it = current(v);
    if (it == objects_.end() || it->second.primary) continue;  // removed, or promoted
    DropFromMemory(it, released);
    objects_.erase(it);
    ++stats_.evicted;
  }
  for (Victim& v : spills) released.push_back(std::move(v.buffer));
  for (Victim& v : secondaries) released.push_back(std::move(v.buffer));
  return Status::Ok();
}

Result<std::shared_ptr<ObjectStore::SpillFile>> ObjectStore::WriteBatch(
    const std::vector<SpillItem>& items, uint64_t bytes) {
  std::string refusals;
  size_t n = options_.spill_directories.size();
  for (size_t k = 0; k < n; ++k) {
    size_t index = (next_directory_ + k) % n;
    const std::string& dir = options_.spill_directories[index];
    auto note = [&refusals](const std::string& why) {
      refusals += refusals.empty() ? why : "; " + why;
    };
    if (!directory_made_[index]) {
      if (Status s = MakeDirectories(dir); !s) {
        note(s.error().message);
        continue;
      }
      directory_made_[index] = true;
    }
    if (options_.spill_fs_capacity_threshold < 1.0) {
      auto usage = options_.fs_usage(dir);
      if (!usage) {
        note(usage.error().message);
        continue;
      }
      double total = static_cast<double>(usage->total_bytes);
      double after = static_cast<double>(
          usage->total_bytes - std::min(usage->available_bytes, usage->total_bytes) + bytes);
      if (total <= 0 || after > options_.spill_fs_capacity_threshold * total) {
        note(
            fmt::format("spill directory {} refused: its file system would be {:.1f}% full, "
                        "above the spill_fs_capacity_threshold of {:.0f}%",
                        dir, total > 0 ? 100.0 * after / total : 100.0,
                        100.0 * options_.spill_fs_capacity_threshold));
        continue;
      }
    }
    auto file = std::make_shared<SpillFile>();
    file->path = fmt::format("{}/spill-{}.h5", dir, next_file_++);
    if (Status s = WriteSpillFile(file->path, items); !s) {
      note(s.error().message);
      continue;
    }
    next_directory_ = (index + 1) % n;
    return file;
  }
  return MakeError(ErrorCode::kIoError, "cannot spill: " + refusals);
}

std::shared_ptr<ObjectBuffer> ObjectStore::Find(const ObjectId& id) {
  Released released;  // declared first: released after the locks
  {
    std::lock_guard lock(mu_);
    auto it = objects_.find(id);
    if (it == objects_.end()) return nullptr;
    Entry& e = it->second;
    if (e.buffer) {
      std::list<ObjectId>& ages = e.primary ? primaries_ : secondaries_;
      ages.splice(ages.end(), ages, e.age);  // just used
      return e.buffer;
    }
  }
  // Spilled: bringing it back may need room, so this is a room maker.
  std::lock_guard room_lock(room_mu_);
  std::unique_lock lock(mu_);
  auto it = objects_.find(id);
  if (it == objects_.end()) return nullptr;
  if (it->second.buffer) return it->second.buffer;  // restored by another Find meanwhile
  // While a reader still holds the bytes, they come back without a read.
  if (std::shared_ptr<ObjectBuffer> held = it->second.departed.lock()) {
    return KeepRestored(lock, id, std::move(held), released);
  }
  Entry& e = it->second;
  std::shared_ptr<ObjectBuffer> buffer;
  try {
    buffer = ObjectBuffer::Create(e.pool, e.size, {e.metadata.data(), e.metadata_size});
  } catch (const std::bad_alloc&) {
    Log().error("cannot allocate {} bytes to restore {}", e.size, id.ToString());
    return nullptr;
  }
  std::shared_ptr<SpillFile> file = e.spill_file;  // stays while this read needs it
  std::string dataset = e.dataset;
  uint64_t size = e.size;
  lock.unlock();
  auto start = std::chrono::steady_clock::now();
  Status s = ReadSpilledObject(file->path, dataset, {buffer->mutable_data(), size});
  double seconds = Seconds(std::chrono::steady_clock::now() - start);
  lock.lock();
  it = objects_.find(id);
  if (it == objects_.end()) return nullptr;  // removed during the read: it is gone
  if (!s) {
    Log().error("cannot restore {}: {}", id.ToString(), s.ToString());
    return nullptr;
  }
  ++stats_.restored_objects_total;
  stats_.restored_bytes_total += size;
  stats_.restore_seconds_total += seconds;
  Log().info("Restored {:.1f} MiB, 1 objects, read throughput {:.0f} MiB/s",
             static_cast<double>(size) / kMiB,
             static_cast<double>(size) / kMiB / std::max(seconds, 1e-9));
  return KeepRestored(lock, id, std::move(buffer), released);
}

std::shared_ptr<ObjectBuffer> ObjectStore::KeepRestored(std::unique_lock<std::mutex>& lock,
                                                        const ObjectId& id,
                                                        std::shared_ptr<ObjectBuffer> buffer,
                                                        Released& released) {
  // Resident again (its disk copy stays until the object is freed, so spilling it again costs
  // no write), if room can be made; otherwise the reader gets the bytes and the store stays
  // within its capacity.
  uint64_t size = buffer->size();
  Status room = Status::Ok();
  if (resident_bytes() + size > options_.capacity_bytes) {
    room = size > options_.capacity_bytes
               ? Status(MakeError(ErrorCode::kResourceExhausted, "larger than the capacity"))
               : MakeRoom(lock, resident_bytes() + size - options_.capacity_bytes, id, released);
  }
  auto it = objects_.find(id);  // MakeRoom may have let go of the lock
  if (it == objects_.end()) return buffer;
  if (it->second.buffer) return it->second.buffer;
  if (room && resident_bytes() + size <= options_.capacity_bytes) {
    Resident(it, buffer);
  } else {
    Log().debug("restored {} for its reader only: {}", id.ToString(),
                room ? "the room was taken meanwhile" : room.error().message);
  }
  return buffer;
}

bool ObjectStore::Contains(const ObjectId& id) const {
  std::lock_guard lock(mu_);
  return objects_.contains(id);
}

bool ObjectStore::InMemory(const ObjectId& id) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(id);
  return it != objects_.end() && it->second.buffer != nullptr;
}

bool ObjectStore::Remove(const ObjectId& id) { return Drop(id, /*secondary_only=*/false); }

bool ObjectStore::RemoveSecondary(const ObjectId& id) { return Drop(id, /*secondary_only=*/true); }

bool ObjectStore::Drop(const ObjectId& id, bool secondary_only) {
  Released released;
  std::lock_guard lock(mu_);
  auto it = objects_.find(id);
  if (it == objects_.end() || (secondary_only && it->second.primary)) return false;
  if (it->second.buffer) DropFromMemory(it, released);
  DropDiskCopy(it->second);
  objects_.erase(it);
  return true;
}

std::string ObjectStore::FullMessage(const ObjectId& id, uint64_t need,
                                     const std::string& why) const {
  uint64_t in_use_bytes = 0;
  uint64_t in_use = 0;
  for (const auto& [other, e] : objects_) {
    if (e.buffer && e.buffer.use_count() > 1) {
      in_use_bytes += e.size;
      ++in_use;
    }
  }
  return fmt::format(
      "object store full: cannot make room for {} ({} more bytes needed): the store's capacity "
      "is {} bytes, and it holds {} bytes in {} primary copies and {} bytes in {} secondary "
      "copies in memory ({} copies, {} bytes, are in use by readers), {} bytes of {} objects "
      "spilled to disk; {}",
      id.ToString(), need, options_.capacity_bytes, stats_.primary_bytes, stats_.primary_objects,
      stats_.secondary_bytes, stats_.secondary_objects, in_use, in_use_bytes, stats_.spilled_bytes,
      stats_.spilled_objects, why);
}

ObjectStore::Stats ObjectStore::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace prism::objstore
