// Spilling across ranks (FEATURES.md OBJ-23..30): every rank's store holds 16 MiB, the job works
// on 4x that per rank, and every byte comes back exactly; afterwards no spill file or spill
// directory is left. Own main: the store capacity and spill directory are set at Init.

#include <dirent.h>
#include <gtest/gtest.h>
#include <prism/prism.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace spill_test {

constexpr int64_t kStoreBytes = int64_t{16} << 20;
constexpr int64_t kDoubles = (int64_t{1} << 20) / 8;  // 1 MiB objects
constexpr int kObjects = 4 * static_cast<int>(kStoreBytes >> 20);

/// A 1 MiB vector that no other seed produces.
std::vector<double> Block(int64_t seed) {
  std::vector<double> v(static_cast<size_t>(kDoubles));
  for (int64_t i = 0; i < kDoubles; ++i) v[i] = static_cast<double>(seed * kDoubles + i);
  return v;
}

/// FNV-1a of the vector's bytes.
uint64_t Checksum(std::vector<double> v) {
  uint64_t h = 1469598103934665603ULL;
  const auto* p = reinterpret_cast<const unsigned char*>(v.data());
  for (size_t i = 0; i < v.size() * sizeof(double); ++i) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

int RankHere(int) { return prism::GetRuntimeContext().GetRank(); }

}  // namespace spill_test

PRISM_REMOTE(spill_test::Block, spill_test::Checksum, spill_test::RankHere);

namespace spill_test {
namespace {

std::string g_spill_base;

// Regular files under `dir`, recursively.
int CountFiles(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return 0;
  int n = 0;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string path = dir + "/" + name;
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0) continue;
    n += S_ISDIR(st.st_mode) ? CountFiles(path) : 1;
  }
  closedir(d);
  return n;
}

int CountEntries(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return 0;
  int n = 0;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") ++n;
  }
  closedir(d);
  return n;
}

bool Eventually(const std::function<bool()>& done, double seconds = 30) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

TEST(SpillTest, AWorkingSetOfFourTimesTheStoreComesBackByteExact) {
  int world = prism::GetRuntimeContext().GetWorldSize();
  ASSERT_GE(world, 2) << "rank 0 runs no tasks here: needs another rank";

  // The driver's own objects: 4x its store.
  std::vector<prism::ObjectRef<std::vector<double>>> puts;
  for (int i = 0; i < kObjects; ++i) puts.push_back(prism::Put(Block(i)));
  prism::MemorySummaryReport after_puts = prism::MemorySummary();
  EXPECT_LE(after_puts.ranks[0].store_primary_bytes, static_cast<uint64_t>(kStoreBytes));
  EXPECT_GE(after_puts.ranks[0].spilled_objects, static_cast<uint64_t>(kObjects * 3 / 4 - 1))
      << after_puts.ToString();

  // Tasks on the other ranks read them: the driver restores spilled objects to serve the pulls.
  std::vector<prism::ObjectRef<uint64_t>> sums;
  std::vector<prism::ObjectRef<int>> where;
  for (int i = 0; i < kObjects; ++i) {
    sums.push_back(prism::Task(Checksum).Remote(puts[i]));
    where.push_back(prism::Task(RankHere).Remote(i));
  }
  for (int i = 0; i < kObjects; ++i) {
    EXPECT_EQ(*sums[i].Get(), Checksum(Block(i))) << "object " << i;
    EXPECT_NE(*where[i].Get(), 0) << "head_cpus=0: tasks run elsewhere";
  }

  // Results made on the other ranks, 4x their stores together: they spill there, and the
  // owner (the driver) pulls every one back.
  std::vector<prism::ObjectRef<std::vector<double>>> made;
  int64_t remote = static_cast<int64_t>(kObjects) * (world - 1);
  for (int64_t i = 0; i < remote; ++i) made.push_back(prism::Task(Block).Remote(1000 + i));
  for (int64_t i = 0; i < remote; ++i) {
    EXPECT_EQ(*made[i].Get(), Block(1000 + i)) << "result " << i;
  }
  // Twice: the second time every object has been spilled and restored at least once more.
  for (int pass = 0; pass < 2; ++pass) {
    for (int i = 0; i < kObjects; ++i) EXPECT_EQ(*puts[i].Get(), Block(i)) << "object " << i;
  }
  // All at once: more than fits; restored copies the store cannot keep go to the reader only.
  auto all = prism::Get(puts);
  for (int i = 0; i < kObjects; ++i) EXPECT_EQ(*all[i], Block(i)) << "object " << i;
  all.clear();

  prism::MemorySummaryReport report = prism::MemorySummary();
  ASSERT_EQ(static_cast<int>(report.ranks.size()), world);
  for (const prism::RankMemory& m : report.ranks) {
    EXPECT_EQ(m.store_capacity_bytes, static_cast<uint64_t>(kStoreBytes)) << "rank " << m.rank;
    EXPECT_LE(m.store_primary_bytes + m.store_secondary_bytes, static_cast<uint64_t>(kStoreBytes))
        << "rank " << m.rank;
  }
  const prism::RankMemory& driver = report.ranks[0];
  EXPECT_GE(driver.spilled_objects_total, static_cast<uint64_t>(kObjects * 3 / 4));
  EXPECT_GE(driver.restored_objects_total, static_cast<uint64_t>(kObjects));
  prism::RankMemory total = report.Total();
  EXPECT_GE(total.spilled_bytes_total, static_cast<uint64_t>(remote * 3 / 4) << 20)
      << "the other ranks spilled their results too\n"
      << report.ToString();
  EXPECT_GT(CountFiles(g_spill_base), 0);

  // Once nothing refers to them, the objects and their spill files go.
  puts.clear();
  made.clear();
  sums.clear();  // small values, but spillable all the same
  where.clear();
  EXPECT_TRUE(Eventually([] {
    for (const prism::RankMemory& m : prism::MemorySummary().ranks) {
      if (m.spilled_objects != 0 || m.spilled_bytes != 0) return false;
    }
    return CountFiles(g_spill_base) == 0;
  })) << prism::MemorySummary().ToString()
      << CountFiles(g_spill_base) << " files left";
}

}  // namespace
}  // namespace spill_test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // One base for every rank of this mpirun (their common parent); each rank spills into its
  // own folder below it.
  const char* root = std::getenv("PRISM_SESSION_ROOT");
  spill_test::g_spill_base =
      std::string(root != nullptr ? root : "/tmp") + "/spill-test-" + std::to_string(getppid());
  prism::Config config;
  config.system_config["object_store_memory"] = std::to_string(spill_test::kStoreBytes);
  config.system_config["spill_dir"] = spill_test::g_spill_base;
  config.system_config["head_cpus"] = "0";
  prism::Init(config, argc, argv);  // ranks >= 1 never return
  int rc = RUN_ALL_TESTS();
  prism::Shutdown();
  // Every rank removes its spill folder when it leaves (the others may still be leaving).
  if (!spill_test::Eventually(
          [] { return spill_test::CountEntries(spill_test::g_spill_base) == 0; })) {
    std::cerr << "FAILED: " << spill_test::CountEntries(spill_test::g_spill_base)
              << " entries left in " << spill_test::g_spill_base << " after shutdown\n";
    rc = 1;
  }
  rmdir(spill_test::g_spill_base.c_str());
  return rc;
}
