#pragma once
/// ObjectStore: this rank's objects, by id, within a memory capacity.
///
/// A primary copy is where an object was made (a Put, or a large task result); it stays until
/// its owner frees it. A secondary copy was pulled from another rank and can be pulled again.
/// The bytes held in memory never exceed `capacity_bytes`: to make room, Add drops secondary
/// copies (least recently used first), then spills primary copies (least recently used first)
/// to HDF5 files in the spill directories and drops them from memory. A spilled object stays in
/// the store; Find reads it back (it is resident again, and counts again). Copies that nobody
/// else holds go first, since dropping them frees memory at once; copies whose buffer is still
/// held outside the store (a reader's zero-copy view, a transfer in flight) go only when that
/// is not enough: their memory is freed when the last reader lets go, it is no longer counted
/// by the store, and a Find meanwhile takes the reader's buffer back without a disk read.
///
///   if (Status s = store.Add(id, buffer, CopyKind::kPrimary); !s) throw Full(s.error());
///   if (auto buf = store.Find(id)) Read(buf->data());   // restores a spilled object
///   store.Remove(id);                                   // also deletes its spilled bytes
///
/// Thread-safe. One lock guards the index; a second one lets one Add or Find at a time make
/// room or restore. Spill files are written and read without the index lock, so Finds of
/// objects in memory, Adds that fit, Removes and stats() go on during a spill or restore; an
/// object being spilled stays in memory (and counted) until its bytes are on disk.

#include <array>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "prism/common/ids.h"
#include "prism/common/result.h"
#include "prism/objstore/memory_limit.h"  // where capacity_bytes defaults come from
#include "prism/objstore/object_buffer.h"
#include "prism/objstore/spill_file.h"

namespace prism::objstore {

/// Size and free space of a file system, for the disk-full check.
struct FsUsage {
  uint64_t total_bytes = 0;
  uint64_t available_bytes = 0;  ///< Free to unprivileged users (statvfs f_bavail).
};

/// statvfs of `directory`, or kIoError naming it.
Result<FsUsage> StatFileSystem(const std::string& directory);

struct ObjectStoreOptions {
  /// Most bytes of object data held in memory (primary and secondary copies together).
  size_t capacity_bytes = SIZE_MAX;
  size_t secondary_budget_bytes = size_t{1} << 30;  ///< Most bytes of pulled copies kept.
  /// This rank's own spill directories (created on first spill, removed with the store; objects
  /// go to them in turn). Empty: spilling is off, and a full store refuses Adds.
  std::vector<std::string> spill_directories;
  /// A directory whose file system would be fuller than this after a spill takes no spill
  /// (Ray's local_fs_capacity_threshold); 1 or more: no check.
  double spill_fs_capacity_threshold = 0.95;
  /// A spill writes at least this much (or a quarter of the capacity, if less) when there is
  /// that much to spill, so that a store at its limit does not write a file per Add.
  size_t min_spill_bytes = size_t{16} << 20;
  /// File-system usage; StatFileSystem unless a test injects a fake.
  std::function<Result<FsUsage>(const std::string&)> fs_usage = StatFileSystem;
};

/// Whether a copy is where the object was made, or a pulled copy.
enum class CopyKind : uint8_t { kPrimary, kSecondary };

class ObjectStore {
 public:
  explicit ObjectStore(const ObjectStoreOptions& options);
  /// Deletes every spill file and the spill directories.
  ~ObjectStore();
  ObjectStore(const ObjectStore&) = delete;
  ObjectStore& operator=(const ObjectStore&) = delete;

  /// Adds an object, making room as described above; an existing entry is kept (objects are
  /// immutable), but a primary add promotes a secondary copy. kResourceExhausted, saying what
  /// fills the store, when no room can be made (nothing is dropped then). A secondary copy
  /// larger than the secondary budget is dropped at once (not an error).
  [[nodiscard]] Status Add(const ObjectId& id, std::shared_ptr<ObjectBuffer> buffer, CopyKind kind);
  /// As Add, but an object that finds no room is kept anyway, above the capacity (counted, and
  /// logged): for small objects that must stay, such as the error objects that replace values.
  void Add(const ObjectId& id, std::shared_ptr<ObjectBuffer> buffer, bool primary);

  /// The object's bytes in memory, or null when the store does not hold it. A spilled object is
  /// read back first (it may spill others); null, with the error logged, when that read fails.
  /// Marks the object as just used.
  std::shared_ptr<ObjectBuffer> Find(const ObjectId& id);
  /// Whether the store holds the object, in memory or spilled (never reads a spill file).
  bool Contains(const ObjectId& id) const;
  /// Whether the object is in memory now (false when only spilled, or not held).
  bool InMemory(const ObjectId& id) const;
  /// Drops the object, in memory and on disk; true if there was one.
  bool Remove(const ObjectId& id);
  /// Drops the object only when this store's copy is a secondary one; true if it did.
  bool RemoveSecondary(const ObjectId& id);

  struct Stats {
    uint64_t capacity_bytes = 0;
    uint64_t objects = 0;          ///< Copies in memory.
    uint64_t primary_bytes = 0;    ///< Primary copies in memory.
    uint64_t secondary_bytes = 0;  ///< Secondary copies in memory.
    uint64_t primary_objects = 0;
    uint64_t secondary_objects = 0;
    uint64_t evicted = 0;                ///< Secondary copies dropped, in total.
    uint64_t spilled_objects = 0;        ///< Objects with a copy on disk now.
    uint64_t spilled_bytes = 0;          ///< Their bytes.
    uint64_t spilled_objects_total = 0;  ///< Objects written to spill files, in total.
    uint64_t spilled_bytes_total = 0;
    uint64_t restored_objects_total = 0;  ///< Objects read back, in total.
    uint64_t restored_bytes_total = 0;
    double spill_seconds_total = 0;  ///< Time spent writing spill files.
    double restore_seconds_total = 0;
    uint64_t spill_files = 0;  ///< Spill files on disk now.
  };
  Stats stats() const;

 private:
  struct SpillFile;  // one file of spilled objects, deleted with its last object

  struct Entry {
    std::shared_ptr<ObjectBuffer> buffer;  // null while only on disk
    bool primary = false;
    uint64_t size = 0;
    std::array<std::byte, ObjectBuffer::kMaxMetadata> metadata{};
    uint8_t metadata_size = 0;
    std::shared_ptr<BufferPool> pool;       // where a restore allocates
    std::list<ObjectId>::iterator age;      // in primaries_ or secondaries_ while resident
    std::shared_ptr<SpillFile> spill_file;  // the disk copy, if any
    std::string dataset;                    // its name in spill_file
    std::weak_ptr<ObjectBuffer> departed;   // the last buffer in memory, while a reader holds it
  };
  using Map = std::unordered_map<ObjectId, Entry>;
  using Released = std::vector<std::shared_ptr<ObjectBuffer>>;

  Status AddImpl(const ObjectId& id, std::shared_ptr<ObjectBuffer> buffer, bool primary,
                 bool over_capacity_ok);
  // Adds (or promotes) when that needs no room; false when room must be made first.
  // Remove and RemoveSecondary.
  bool Drop(const ObjectId& id, bool secondary_only);
  bool TryAddLocked(const ObjectId& id, std::shared_ptr<ObjectBuffer>& buffer, bool primary,
                    Released& released);
  void InsertLocked(const ObjectId& id, std::shared_ptr<ObjectBuffer> buffer, bool primary,
                    Released& released);
  // Frees `need` bytes of memory (room_mu_ held; `lock` holds mu_ and is let go while a spill
  // file is written). Nothing changes when that cannot be done.
  Status MakeRoom(std::unique_lock<std::mutex>& lock, uint64_t need, const ObjectId& for_id,
                  Released& released);
  // Writes one batch into a new file in the next directory that takes it (room_mu_ held).
  Result<std::shared_ptr<SpillFile>> WriteBatch(const std::vector<SpillItem>& items,
                                                uint64_t bytes);
  void Resident(Map::iterator it, std::shared_ptr<ObjectBuffer> buffer);
  std::shared_ptr<ObjectBuffer> KeepRestored(std::unique_lock<std::mutex>& lock, const ObjectId& id,
                                             std::shared_ptr<ObjectBuffer> buffer,
                                             Released& released);
  void DropFromMemory(Map::iterator it, Released& released);
  void DropDiskCopy(Entry& e);
  void DropDatasetLocked(const std::shared_ptr<SpillFile>& file);
  void EvictSecondaryBudgetLocked(Released& released);
  uint64_t resident_bytes() const { return stats_.primary_bytes + stats_.secondary_bytes; }
  std::string FullMessage(const ObjectId& id, uint64_t need, const std::string& why) const;

  // One lock for the map, the age lists and the counters, so they never disagree. Buffers that
  // leave the store are released after the lock (returning memory to the pool takes time).
  // room_mu_ (taken before mu_) lets one Add or Find at a time make room or restore; it alone
  // guards the directory fields below, and file I/O runs under it without mu_.
  std::mutex room_mu_;
  mutable std::mutex mu_;
  ObjectStoreOptions options_;
  Map objects_;
  std::list<ObjectId> primaries_;    // resident primary copies, least recently used first
  std::list<ObjectId> secondaries_;  // resident secondary copies, least recently used first
  std::vector<bool> directory_made_;
  size_t next_directory_ = 0;
  uint64_t next_file_ = 0;
  Stats stats_;
};

}  // namespace prism::objstore
