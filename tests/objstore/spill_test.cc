// Capacity, eviction and spilling of the ObjectStore, and the HDF5 spill files themselves.

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "prism/objstore/object_store.h"
#include "prism/objstore/spill_file.h"

namespace prism::objstore {
namespace {

constexpr size_t kKiB = 1024;

ObjectId Id(uint64_t seq, Rank owner = 0) { return ObjectId::ForPut(owner, seq); }

std::byte PatternByte(uint64_t seed, size_t i) {
  return static_cast<std::byte>((seed * 131 + i * 7 + (i >> 8)) & 0xff);
}

std::shared_ptr<ObjectBuffer> Pattern(uint64_t seed, size_t size,
                                      const std::shared_ptr<BufferPool>& pool = nullptr) {
  std::byte meta[3] = {std::byte{1}, static_cast<std::byte>(seed & 0xff), std::byte{3}};
  auto buffer = ObjectBuffer::Create(pool, size, meta);
  for (size_t i = 0; i < size; ++i) buffer->mutable_data()[i] = PatternByte(seed, i);
  return buffer;
}

// Whether `buffer` holds Pattern(seed, size), metadata included.
bool HoldsPattern(const std::shared_ptr<ObjectBuffer>& buffer, uint64_t seed, size_t size) {
  if (buffer == nullptr || buffer->size() != size || buffer->metadata().size() != 3 ||
      buffer->metadata()[1] != static_cast<std::byte>(seed & 0xff)) {
    return false;
  }
  for (size_t i = 0; i < size; ++i) {
    if (buffer->data()[i] != PatternByte(seed, i)) return false;
  }
  return true;
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  closedir(d);
  return out;
}

bool Exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

class SpillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "prism-spill-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    base_ = tmpl;
  }
  void TearDown() override {
    // Every store is gone by now: it must have left nothing behind.
    EXPECT_TRUE(Entries(base_).empty()) << "left in " << base_ << ": " << Entries(base_).size();
    rmdir(base_.c_str());
  }

  ObjectStoreOptions Options(size_t capacity, int directories = 1) {
    ObjectStoreOptions o;
    o.capacity_bytes = capacity;
    o.min_spill_bytes = 0;  // spill exactly what is needed: the tests count objects
    for (int i = 0; i < directories; ++i) {
      o.spill_directories.push_back(base_ + "/rank-0-" + std::to_string(i));
    }
    return o;
  }
  std::string Dir(int i = 0) const { return base_ + "/rank-0-" + std::to_string(i); }

  std::string base_;
};

TEST_F(SpillTest, MemoryStaysWithinCapacityAndTheLeastRecentlyUsedPrimarySpills) {
  ObjectStore store(Options(4 * kKiB));
  for (uint64_t i = 1; i <= 4; ++i)
    ASSERT_TRUE(store.Add(Id(i), Pattern(i, kKiB), CopyKind::kPrimary));
  EXPECT_EQ(store.stats().spilled_objects, 0u);
  ASSERT_NE(store.Find(Id(1)), nullptr);  // 1 is now the most recently used
  ASSERT_TRUE(store.Add(Id(5), Pattern(5, kKiB), CopyKind::kPrimary));
  EXPECT_FALSE(store.InMemory(Id(2))) << "2 was the least recently used";
  EXPECT_TRUE(store.Contains(Id(2))) << "a spilled object stays in the store";
  for (uint64_t i : {1, 3, 4, 5}) EXPECT_TRUE(store.InMemory(Id(i))) << i;
  ObjectStore::Stats s = store.stats();
  EXPECT_EQ(s.capacity_bytes, 4 * kKiB);
  EXPECT_EQ(s.primary_bytes, 4 * kKiB);
  EXPECT_EQ(s.objects, 4u);
  EXPECT_EQ(s.spilled_objects, 1u);
  EXPECT_EQ(s.spilled_bytes, kKiB);
  EXPECT_EQ(s.spilled_objects_total, 1u);
  EXPECT_EQ(s.spill_files, 1u);
  // Reading 2 brings it back and pushes out the next least recently used one, 3.
  EXPECT_TRUE(HoldsPattern(store.Find(Id(2)), 2, kKiB));
  EXPECT_TRUE(store.InMemory(Id(2)));
  EXPECT_FALSE(store.InMemory(Id(3)));
  s = store.stats();
  EXPECT_EQ(s.primary_bytes, 4 * kKiB);
  EXPECT_EQ(s.restored_objects_total, 1u);
  EXPECT_EQ(s.restored_bytes_total, kKiB);
  EXPECT_GE(s.spill_seconds_total, 0.0);
  EXPECT_EQ(Entries(Dir()).size(), 2u) << "2's and 3's files";
}

TEST_F(SpillTest, SecondaryCopiesGoBeforeAnyPrimarySpills) {
  ObjectStore store(Options(4 * kKiB));
  ASSERT_TRUE(store.Add(Id(1), Pattern(1, kKiB), CopyKind::kPrimary));
  ASSERT_TRUE(store.Add(Id(2), Pattern(2, kKiB), CopyKind::kSecondary));
  ASSERT_TRUE(store.Add(Id(3), Pattern(3, kKiB), CopyKind::kSecondary));
  ASSERT_TRUE(store.Add(Id(4), Pattern(4, kKiB), CopyKind::kPrimary));
  ASSERT_NE(store.Find(Id(2)), nullptr);  // 3 is now the older secondary
  ASSERT_TRUE(store.Add(Id(5), Pattern(5, 2 * kKiB), CopyKind::kPrimary));
  EXPECT_FALSE(store.Contains(Id(2)));
  EXPECT_FALSE(store.Contains(Id(3)));
  EXPECT_TRUE(store.InMemory(Id(1)));
  EXPECT_TRUE(store.InMemory(Id(4)));
  ObjectStore::Stats s = store.stats();
  EXPECT_EQ(s.evicted, 2u);
  EXPECT_EQ(s.spilled_objects_total, 0u);
  EXPECT_EQ(s.secondary_bytes, 0u);
  EXPECT_EQ(s.primary_bytes, 4 * kKiB);
  EXPECT_FALSE(Exists(Dir())) << "nothing spilled: no directory made";
}

TEST_F(SpillTest, RestoreIsByteExactIntoPoolMemory) {
  auto pool = BufferPool::Create({});
  constexpr size_t kSize = 3 * 1024 * 1024 + 17;  // not a multiple of anything
  ObjectStore store(Options(2 * kSize));
  for (uint64_t i = 0; i < 6; ++i)
    ASSERT_TRUE(store.Add(Id(i), Pattern(i, kSize, pool), CopyKind::kPrimary));
  EXPECT_EQ(store.stats().spilled_objects, 4u);
  for (uint64_t i = 0; i < 6; ++i) {
    auto buffer = store.Find(Id(i));
    EXPECT_TRUE(HoldsPattern(buffer, i, kSize)) << i;
    ASSERT_NE(buffer, nullptr);
    EXPECT_NE(buffer->block(), nullptr) << "restored into a pool block";
  }
  EXPECT_EQ(store.stats().restored_objects_total, 6u) << "4 spilled, then 4 and 5 in turn";
  EXPECT_LE(store.stats().primary_bytes, 2 * kSize);
}

TEST_F(SpillTest, ARestoredObjectKeepsItsDiskCopyUntilFreed) {
  ObjectStore store(Options(2 * kKiB));
  for (uint64_t i = 1; i <= 3; ++i)
    ASSERT_TRUE(store.Add(Id(i), Pattern(i, kKiB), CopyKind::kPrimary));
  ASSERT_EQ(store.stats().spilled_objects_total, 1u);     // 1 went out
  ASSERT_TRUE(HoldsPattern(store.Find(Id(1)), 1, kKiB));  // 2 goes out
  ASSERT_TRUE(HoldsPattern(store.Find(Id(2)), 2, kKiB));  // 3 goes out
  ASSERT_EQ(store.stats().spilled_objects_total, 3u);
  ASSERT_TRUE(HoldsPattern(store.Find(Id(3)), 3, kKiB));  // 1 goes out again
  ObjectStore::Stats s = store.stats();
  EXPECT_EQ(s.spilled_objects_total, 3u) << "1 went out again without a second write";
  EXPECT_EQ(s.spilled_objects, 3u) << "every object has its disk copy";
  EXPECT_EQ(s.restored_objects_total, 3u);
  EXPECT_FALSE(store.InMemory(Id(1)));
  EXPECT_TRUE(HoldsPattern(store.Find(Id(1)), 1, kKiB));
}

TEST_F(SpillTest, RemoveOfASpilledObjectDeletesItsFile) {
  ObjectStore store(Options(kKiB));
  ASSERT_TRUE(store.Add(Id(1), Pattern(1, kKiB), CopyKind::kPrimary));
  ASSERT_TRUE(store.Add(Id(2), Pattern(2, kKiB), CopyKind::kPrimary));
  ASSERT_EQ(Entries(Dir()).size(), 1u);
  EXPECT_TRUE(store.Remove(Id(1)));
  EXPECT_TRUE(Entries(Dir()).empty());
  ObjectStore::Stats s = store.stats();
  EXPECT_EQ(s.spilled_objects, 0u);
  EXPECT_EQ(s.spilled_bytes, 0u);
  EXPECT_EQ(s.spill_files, 0u);
  EXPECT_EQ(s.spilled_objects_total, 1u);
  EXPECT_EQ(store.Find(Id(1)), nullptr);
  EXPECT_FALSE(store.Remove(Id(1)));
}

TEST_F(SpillTest, AFileGoesWithTheLastOfItsObjects) {
  ObjectStore store(Options(4 * kKiB));
  for (uint64_t i = 1; i <= 4; ++i)
    ASSERT_TRUE(store.Add(Id(i), Pattern(i, kKiB), CopyKind::kPrimary));
  // One Add that needs 3 KiB spills three objects in one batch, one file.
  ASSERT_TRUE(store.Add(Id(5), Pattern(5, 3 * kKiB), CopyKind::kPrimary));
  auto files = Entries(Dir());
  ASSERT_EQ(files.size(), 1u);
  std::string batch = Dir() + "/" + files[0];
  EXPECT_EQ(store.stats().spilled_objects, 3u);
  EXPECT_TRUE(store.Remove(Id(1)));
  EXPECT_TRUE(store.Remove(Id(2)));
  EXPECT_TRUE(Exists(batch)) << "3 still lives in the file";
  EXPECT_TRUE(HoldsPattern(store.Find(Id(3)), 3, kKiB));  // spills 4 into a file of its own
  EXPECT_TRUE(Exists(batch)) << "a restored object keeps its disk copy";
  EXPECT_TRUE(store.Remove(Id(3)));
  EXPECT_FALSE(Exists(batch));
  EXPECT_EQ(store.stats().spill_files, 1u);
}

TEST_F(SpillTest, TheDestructorLeavesNoFileAndNoDirectory) {
  {
    ObjectStore store(Options(2 * kKiB, 2));
    for (uint64_t i = 0; i < 10; ++i)
      ASSERT_TRUE(store.Add(Id(i), Pattern(i, kKiB), CopyKind::kPrimary));
    EXPECT_FALSE(Entries(Dir(0)).empty());
    EXPECT_FALSE(Entries(Dir(1)).empty());
  }
  EXPECT_FALSE(Exists(Dir(0)));
  EXPECT_FALSE(Exists(Dir(1)));
}

TEST_F(SpillTest, SpillFilesAreOnlyForTheirOwner) {
  mode_t old = umask(0);  // the mode must not depend on the umask
  {
    ObjectStore store(Options(kKiB));
    ASSERT_TRUE(store.Add(Id(1), Pattern(1, kKiB), CopyKind::kPrimary));
    ASSERT_TRUE(store.Add(Id(2), Pattern(2, kKiB), CopyKind::kPrimary));
    auto files = Entries(Dir());
    ASSERT_EQ(files.size(), 1u);
    struct stat st {};
    ASSERT_EQ(stat((Dir() + "/" + files[0]).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(stat(Dir().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
  }
  umask(old);
}

TEST_F(SpillTest, SpillsAreSpreadOverSeveralDirectories) {
  ObjectStore store(Options(kKiB, 3));
  for (uint64_t i = 0; i < 7; ++i)
    ASSERT_TRUE(store.Add(Id(i), Pattern(i, kKiB), CopyKind::kPrimary));
  // Six single-object spills, in turn.
  EXPECT_EQ(Entries(Dir(0)).size(), 2u);
  EXPECT_EQ(Entries(Dir(1)).size(), 2u);
  EXPECT_EQ(Entries(Dir(2)).size(), 2u);
  for (uint64_t i = 0; i < 7; ++i) EXPECT_TRUE(HoldsPattern(store.Find(Id(i)), i, kKiB)) << i;
}

TEST_F(SpillTest, AFileSystemAboveTheThresholdTakesNoSpill) {
  ObjectStoreOptions options = Options(kKiB, 2);
  std::string full = Dir(0);
  options.fs_usage = [full](const std::string& dir) -> Result<FsUsage> {
    // 96 % used where `full` lives, 50 % elsewhere.
    return dir == full ? FsUsage{100 * kKiB * kKiB, 4 * kKiB * kKiB}
                       : FsUsage{100 * kKiB * kKiB, 50 * kKiB * kKiB};
  };
  ObjectStore store(options);
  for (uint64_t i = 0; i < 5; ++i)
    ASSERT_TRUE(store.Add(Id(i), Pattern(i, kKiB), CopyKind::kPrimary));
  EXPECT_TRUE(Entries(Dir(0)).empty());
  EXPECT_EQ(Entries(Dir(1)).size(), 4u);
}

TEST_F(SpillTest, EveryFileSystemFullFailsTheAddAndSaysWhy) {
  ObjectStoreOptions options = Options(2 * kKiB);
  options.fs_usage = [](const std::string&) -> Result<FsUsage> {
    return FsUsage{1000 * kKiB, 40 * kKiB};  // 96 % used
  };
  ObjectStore store(options);
  ASSERT_TRUE(store.Add(Id(1), Pattern(1, kKiB), CopyKind::kPrimary));
  ASSERT_TRUE(store.Add(Id(2), Pattern(2, kKiB), CopyKind::kPrimary));
  Status s = store.Add(Id(3), Pattern(3, kKiB), CopyKind::kPrimary);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.code(), ErrorCode::kResourceExhausted);
  EXPECT_NE(s.error().message.find("threshold"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find(Dir()), std::string::npos) << s.error().message;
  EXPECT_FALSE(store.Contains(Id(3)));
  EXPECT_TRUE(store.InMemory(Id(1)) && store.InMemory(Id(2))) << "nothing changed";
  EXPECT_TRUE(Entries(Dir()).empty());

  // A threshold of 1 turns the check off.
  options.spill_fs_capacity_threshold = 1.0;
  ObjectStore unchecked(options);
  ASSERT_TRUE(unchecked.Add(Id(1), Pattern(1, kKiB), CopyKind::kPrimary));
  ASSERT_TRUE(unchecked.Add(Id(2), Pattern(2, kKiB), CopyKind::kPrimary));
  EXPECT_TRUE(unchecked.Add(Id(3), Pattern(3, kKiB), CopyKind::kPrimary));
}

TEST_F(SpillTest, AnUnusableDirectoryIsSkippedAndNamedWhenNoneIsLeft) {
  std::string blocker = base_ + "/not-a-directory";
  FILE* f = fopen(blocker.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fclose(f);
  {
    ObjectStoreOptions options = Options(kKiB);
    options.spill_directories = {blocker + "/spill", Dir(1)};
    ObjectStore store(options);
    for (uint64_t i = 0; i < 3; ++i)
      ASSERT_TRUE(store.Add(Id(i), Pattern(i, kKiB), CopyKind::kPrimary));
    EXPECT_EQ(Entries(Dir(1)).size(), 2u) << "every spill went to the usable directory";
    EXPECT_TRUE(HoldsPattern(store.Find(Id(0)), 0, kKiB));
  }
  {
    ObjectStoreOptions options = Options(kKiB);
    options.spill_directories = {blocker + "/spill"};
    ObjectStore store(options);
    ASSERT_TRUE(store.Add(Id(1), Pattern(1, kKiB), CopyKind::kPrimary));
    Status s = store.Add(Id(2), Pattern(2, kKiB), CopyKind::kPrimary);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.code(), ErrorCode::kResourceExhausted);
    EXPECT_NE(s.error().message.find("cannot create spill directory " + blocker), std::string::npos)
        << s.error().message;
    EXPECT_TRUE(store.InMemory(Id(1)));
  }
  unlink(blocker.c_str());
}

TEST_F(SpillTest, AFullStoreWithoutSpillingSaysWhatFillsIt) {
  ObjectStoreOptions options;
  options.capacity_bytes = 4 * kKiB;
  ObjectStore store(options);
  ASSERT_TRUE(store.Add(Id(1), Pattern(1, kKiB), CopyKind::kPrimary));
  ASSERT_TRUE(store.Add(Id(2), Pattern(2, kKiB), CopyKind::kPrimary));
  auto held = Pattern(3, kKiB);
  ASSERT_TRUE(store.Add(Id(3), held, CopyKind::kSecondary));  // in use: `held` reads it
  Status s = store.Add(Id(4), Pattern(4, 3 * kKiB), CopyKind::kPrimary);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.code(), ErrorCode::kResourceExhausted);
  const std::string& m = s.error().message;
  EXPECT_NE(m.find("capacity is 4096 bytes"), std::string::npos) << m;
  EXPECT_NE(m.find("2048 bytes in 2 primary copies"), std::string::npos) << m;
  EXPECT_NE(m.find("1024 bytes in 1 secondary copies"), std::string::npos) << m;
  EXPECT_NE(m.find("1 copies, 1024 bytes, are in use"), std::string::npos) << m;
  EXPECT_NE(m.find("spilling is off"), std::string::npos) << m;
  EXPECT_NE(m.find(Id(4).ToString()), std::string::npos) << m;
  EXPECT_TRUE(store.Contains(Id(3))) << "a failed Add drops nothing";
  EXPECT_EQ(store.stats().evicted, 0u);
  // Dropping the secondary copy is enough for a smaller object, even while it is read.
  EXPECT_TRUE(store.Add(Id(5), Pattern(5, 2 * kKiB), CopyKind::kPrimary));
  EXPECT_FALSE(store.Contains(Id(3)));
  EXPECT_TRUE(HoldsPattern(held, 3, kKiB)) << "the reader keeps its bytes";
  EXPECT_EQ(store.stats().evicted, 1u);
}

TEST_F(SpillTest, CopiesInUseGoLastAndComeBackWithoutARead) {
  ObjectStore store(Options(3 * kKiB));
  auto reader_view = Pattern(1, kKiB);
  ASSERT_TRUE(store.Add(Id(1), reader_view, CopyKind::kPrimary));
  ASSERT_TRUE(store.Add(Id(2), Pattern(2, kKiB), CopyKind::kPrimary));
  ASSERT_TRUE(store.Add(Id(3), Pattern(3, kKiB), CopyKind::kPrimary));
  ASSERT_TRUE(store.Add(Id(4), Pattern(4, kKiB), CopyKind::kPrimary));
  EXPECT_TRUE(store.InMemory(Id(1))) << "held by a reader: spilling it would free nothing now";
  EXPECT_FALSE(store.InMemory(Id(2)));
  auto view3 = store.Find(Id(3));
  auto view4 = store.Find(Id(4));
  // Every copy in memory is in use: the least recently used one spills all the same.
  ASSERT_TRUE(store.Add(Id(5), Pattern(5, kKiB), CopyKind::kPrimary));
  EXPECT_FALSE(store.InMemory(Id(1)));
  EXPECT_EQ(store.stats().primary_bytes, 3 * kKiB) << "the reader's copy is no longer counted";
  uint64_t reads = store.stats().restored_objects_total;
  EXPECT_EQ(store.Find(Id(1)), reader_view) << "the reader's buffer comes back, not a copy";
  EXPECT_EQ(store.stats().restored_objects_total, reads) << "without a disk read";
  EXPECT_TRUE(store.InMemory(Id(1)));
  EXPECT_FALSE(store.InMemory(Id(5))) << "the only copy nobody held made the room";
  reader_view.reset();
  view3.reset();
  view4.reset();
  for (uint64_t i = 1; i <= 5; ++i) EXPECT_TRUE(HoldsPattern(store.Find(Id(i)), i, kKiB)) << i;
}

TEST_F(SpillTest, AnObjectLargerThanTheCapacityIsRefused) {
  ObjectStore store(Options(kKiB));
  Status s = store.Add(Id(1), Pattern(1, 2 * kKiB), CopyKind::kPrimary);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("larger than the store's capacity"), std::string::npos);
  EXPECT_FALSE(store.Contains(Id(1)));
}

TEST_F(SpillTest, TheTransitionalAddKeepsAnObjectAboveTheCapacity) {
  ObjectStoreOptions options;
  options.capacity_bytes = kKiB;
  ObjectStore store(options);
  store.Add(Id(1), Pattern(1, kKiB), /*primary=*/true);
  store.Add(Id(2), Pattern(2, kKiB), /*primary=*/true);
  EXPECT_TRUE(store.InMemory(Id(1)));
  EXPECT_TRUE(store.InMemory(Id(2)));
  EXPECT_EQ(store.stats().primary_bytes, 2 * kKiB) << "counted, above the capacity";
}

TEST_F(SpillTest, ConcurrentAddsAndFindsStayByteExact) {
  constexpr int kThreads = 4;
  constexpr uint64_t kPerThread = 40;
  constexpr size_t kSize = 8 * kKiB;
  ObjectStoreOptions options = Options(16 * kSize, 2);
  options.min_spill_bytes = 4 * kSize;
  auto pool = BufferPool::Create({});
  {
    ObjectStore store(options);
    std::atomic<int> bad{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (uint64_t i = 0; i < kPerThread; ++i) {
          uint64_t seed = t * 1000 + i;
          if (!store.Add(Id(seed), Pattern(seed, kSize, pool), CopyKind::kPrimary)) ++bad;
          // Re-read an older object of this thread (restores race with spills), never one
          // that this thread removed.
          if (i >= 2) {
            uint64_t j = i / 2 % 5 == 0 ? i / 2 + 1 : i / 2;
            uint64_t old = t * 1000 + j;
            if (!HoldsPattern(store.Find(Id(old)), old, kSize)) ++bad;
          }
          if (i % 5 == 4 && !store.Remove(Id(t * 1000 + i - 4))) ++bad;
          ObjectStore::Stats s = store.stats();
          if (s.primary_bytes + s.secondary_bytes > options.capacity_bytes) ++bad;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(bad.load(), 0);
    for (int t = 0; t < kThreads; ++t) {
      for (uint64_t i = 0; i < kPerThread; ++i) {
        uint64_t seed = t * 1000 + i;
        bool removed = i % 5 == 0 && i + 4 < kPerThread;
        EXPECT_EQ(store.Contains(Id(seed)), !removed) << seed;
        if (!removed) {
          EXPECT_TRUE(HoldsPattern(store.Find(Id(seed)), seed, kSize)) << seed;
        }
      }
    }
    ObjectStore::Stats s = store.stats();
    EXPECT_GT(s.spilled_objects_total, 0u);
    EXPECT_GT(s.restored_objects_total, 0u);
    EXPECT_LE(s.primary_bytes, options.capacity_bytes);
  }
  EXPECT_FALSE(Exists(Dir(0)));
  EXPECT_FALSE(Exists(Dir(1)));
}

// A spill writes without the index lock: a Find, a stats() and a Remove of the object being
// spilled go on meanwhile (the fake file-system check is where the writer waits).
TEST_F(SpillTest, OtherCallsGoOnWhileASpillIsWritten) {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> calls{0};
  ObjectStoreOptions options = Options(2 * kKiB);
  options.fs_usage = [&](const std::string&) -> Result<FsUsage> {
    if (calls++ == 0) {
      entered.set_value();
      released.wait();
    }
    return FsUsage{uint64_t{1} << 40, uint64_t{1} << 39};
  };
  {
    ObjectStore store(options);
    ASSERT_TRUE(store.Add(Id(1), Pattern(1, kKiB), CopyKind::kPrimary));
    ASSERT_TRUE(store.Add(Id(2), Pattern(2, kKiB), CopyKind::kPrimary));
    std::thread adder([&] { EXPECT_TRUE(store.Add(Id(3), Pattern(3, kKiB), CopyKind::kPrimary)); });
    entered.get_future().wait();  // the adder is spilling 1 now
    EXPECT_TRUE(HoldsPattern(store.Find(Id(2)), 2, kKiB));
    EXPECT_EQ(store.stats().primary_bytes, 2 * kKiB) << "1 counts until it is written";
    EXPECT_TRUE(store.Remove(Id(1)));
    release.set_value();
    adder.join();
    EXPECT_FALSE(store.Contains(Id(1)));
    EXPECT_TRUE(HoldsPattern(store.Find(Id(3)), 3, kKiB));
    ObjectStore::Stats s = store.stats();
    EXPECT_EQ(s.spilled_objects, 0u);
    EXPECT_EQ(s.spill_files, 0u);
    EXPECT_EQ(s.spilled_objects_total, 1u);
    EXPECT_TRUE(Entries(Dir()).empty()) << "the file of a removed object is gone";
  }
}

// The HDF5 container on its own.
TEST_F(SpillTest, SpillFileRoundTripAndErrors) {
  std::string path = base_ + "/f.h5";
  std::vector<std::byte> a(1000), b(0), c(70000);
  for (size_t i = 0; i < a.size(); ++i) a[i] = PatternByte(1, i);
  for (size_t i = 0; i < c.size(); ++i) c[i] = PatternByte(2, i);
  std::vector<SpillItem> items{{"0", a}, {"1", b}, {"2", c}};
  ASSERT_TRUE(WriteSpillFile(path, items));
  std::vector<std::byte> out(c.size());
  ASSERT_TRUE(ReadSpilledObject(path, "2", out));
  EXPECT_EQ(out, c);
  std::vector<std::byte> none;
  EXPECT_TRUE(ReadSpilledObject(path, "1", none));
  Status wrong = ReadSpilledObject(path, "0", out);
  EXPECT_EQ(wrong.code(), ErrorCode::kMalformed);
  EXPECT_NE(wrong.error().message.find("holds 1000 bytes"), std::string::npos);
  Status missing = ReadSpilledObject(path, "9", out);
  EXPECT_EQ(missing.code(), ErrorCode::kIoError);
  EXPECT_NE(missing.error().message.find("H5Dopen2"), std::string::npos) << missing.ToString();
  Status again = WriteSpillFile(path, items);
  EXPECT_EQ(again.code(), ErrorCode::kIoError) << "an existing file is never overwritten";
  EXPECT_TRUE(RemoveSpillFile(path));
  EXPECT_TRUE(RemoveSpillFile(path)) << "already gone is fine";
  Status gone = ReadSpilledObject(path, "0", out);
  EXPECT_EQ(gone.code(), ErrorCode::kIoError);
  EXPECT_NE(gone.error().message.find(path), std::string::npos);
  Status no_dir = WriteSpillFile(base_ + "/missing/f.h5", items);
  EXPECT_EQ(no_dir.code(), ErrorCode::kIoError);
}

}  // namespace
}  // namespace prism::objstore
