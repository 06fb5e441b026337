#include "spill_benchmarks.h"

#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "prism/objstore/object_store.h"
#include "stats.h"
#include "stopwatch.h"

namespace prism::bench {
namespace {

constexpr size_t kMiB = size_t{1} << 20;
constexpr std::array<size_t, 3> kSpillSizes = {kMiB, 64 * kMiB, 256 * kMiB};

double GigabytesPerSecond(size_t bytes, double seconds) {
  return static_cast<double>(bytes) / seconds / 1e9;
}

int SamplesFor(const BenchOptions& options, size_t bytes) {
  return options.Repetitions(bytes >= 256 * kMiB ? 5 : bytes >= 64 * kMiB ? 9 : 21, 1);
}

void Check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("spill benchmark: " + what);
}

// A fresh directory for this run's files.
std::string MakeScratch() {
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                    "/prism-bench-spill-" + std::to_string(getpid());
  Check(mkdir(dir.c_str(), 0700) == 0, "cannot create " + dir);
  return dir;
}

// The baseline: one file with one contiguous dataset of `data`, default properties.
double RawWriteSeconds(const std::string& path, const std::vector<std::byte>& data) {
  Stopwatch watch;
  hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hsize_t dims[1] = {data.size()};
  hid_t space = H5Screate_simple(1, dims, nullptr);
  hid_t set = H5Dcreate2(file, "0", H5T_STD_U8LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  herr_t written = H5Dwrite(set, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data());
  H5Dclose(set);
  H5Sclose(space);
  herr_t closed = H5Fclose(file);
  double seconds = watch.ElapsedSeconds();
  Check(file >= 0 && set >= 0 && written >= 0 && closed >= 0, "raw HDF5 write of " + path);
  return seconds;
}

double RawReadSeconds(const std::string& path, std::vector<std::byte>& out) {
  Stopwatch watch;
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t set = H5Dopen2(file, "0", H5P_DEFAULT);
  herr_t read = H5Dread(set, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data());
  H5Dclose(set);
  H5Fclose(file);
  double seconds = watch.ElapsedSeconds();
  Check(file >= 0 && set >= 0 && read >= 0, "raw HDF5 read of " + path);
  return seconds;
}

struct SizeResult {
  std::vector<double> spill, restore, raw_write, raw_read;
};

SizeResult Measure(const BenchOptions& options, size_t bytes, const std::string& scratch) {
  namespace os = prism::objstore;
  auto pool = os::BufferPool::Create({});
  os::ObjectStoreOptions store_options;
  store_options.capacity_bytes = bytes;  // one object: the next Add spills it
  store_options.min_spill_bytes = 0;
  store_options.spill_directories = {scratch + "/store"};
  os::ObjectStore store(store_options);

  std::vector<std::byte> source(bytes);
  for (size_t i = 0; i < bytes; ++i) source[i] = static_cast<std::byte>((i * 7 + 3) & 0xff);
  std::vector<std::byte> raw_out(bytes, std::byte{0});
  auto make = [&] { return os::ObjectBuffer::CopyOf(pool, {}, source); };

  SizeResult out;
  const int samples = SamplesFor(options, bytes);
  for (int r = -1; r < samples; ++r) {  // r == -1: warm-up
    ObjectId first = ObjectId::ForPut(0, 2 * static_cast<uint64_t>(r + 1) + 1);
    ObjectId second = ObjectId::ForPut(0, 2 * static_cast<uint64_t>(r + 1) + 2);
    Check(static_cast<bool>(store.Add(first, make(), os::CopyKind::kPrimary)), "first Add");
    auto next = make();
    Stopwatch watch;
    Status added = store.Add(second, std::move(next), os::CopyKind::kPrimary);
    double spill = watch.ElapsedSeconds();
    Check(added.ok(), "spilling Add: " + added.ToString());
    Check(!store.InMemory(first), "the first object did not spill");
    store.Remove(second);
    watch.Restart();
    std::shared_ptr<os::ObjectBuffer> back = store.Find(first);
    double restore = watch.ElapsedSeconds();
    Check(back != nullptr && std::memcmp(back->data().data(), source.data(), bytes) == 0,
          "restored bytes differ");
    back.reset();
    store.Remove(first);

    std::string raw = scratch + "/raw.h5";
    double write = RawWriteSeconds(raw, source);
    double read = RawReadSeconds(raw, raw_out);
    Check(std::memcmp(raw_out.data(), source.data(), bytes) == 0, "raw read bytes differ");
    unlink(raw.c_str());
    if (r < 0) continue;
    out.spill.push_back(GigabytesPerSecond(bytes, spill));
    out.restore.push_back(GigabytesPerSecond(bytes, restore));
    out.raw_write.push_back(GigabytesPerSecond(bytes, write));
    out.raw_read.push_back(GigabytesPerSecond(bytes, read));
  }
  return out;
}

void AddPair(ResultSet& results, const BenchOptions& options, const std::string& name,
             const std::vector<double>& rates, const std::string& baseline_name,
             const std::vector<double>& baseline) {
  Summary base = Summarize(baseline);
  if (options.Selected(baseline_name)) results.Add(MakeRecord(baseline_name, base, "GB/s"));
  if (options.Selected(name)) {
    Record r = MakeRecord(name, Summarize(rates), "GB/s");
    r.baseline_name = baseline_name;
    r.baseline_value = base.median;
    results.Add(std::move(r));
  }
}

}  // namespace

std::vector<std::string> SpillMeasureNames() {
  std::vector<std::string> names;
  for (size_t bytes : kSpillSizes) {
    std::string label = SizeLabel(bytes);
    for (const char* prefix :
         {"raw_hdf5_write_gbps_", "spill_gbps_", "raw_hdf5_read_gbps_", "restore_gbps_"}) {
      names.push_back(prefix + label);
    }
  }
  return names;
}

void RunSpillBenchmarks(const BenchOptions& options, ResultSet& results) {
  std::string scratch;
  for (size_t bytes : kSpillSizes) {
    std::string label = SizeLabel(bytes);
    bool any = false;
    for (const char* prefix :
         {"raw_hdf5_write_gbps_", "spill_gbps_", "raw_hdf5_read_gbps_", "restore_gbps_"}) {
      any = any || options.Selected(prefix + label);
    }
    if (!any) continue;
    if (options.quick() && bytes > 64 * kMiB) {
      results.AddNote("spill_gbps_" + label + " and restore_gbps_" + label +
                      " skipped under --quick");
      continue;
    }
    if (scratch.empty()) scratch = MakeScratch();
    SizeResult m;
    try {
      m = Measure(options, bytes, scratch);
    } catch (...) {
      unlink((scratch + "/raw.h5").c_str());  // the store removed its own files
      rmdir(scratch.c_str());
      throw;
    }
    AddPair(results, options, "spill_gbps_" + label, m.spill, "raw_hdf5_write_gbps_" + label,
            m.raw_write);
    AddPair(results, options, "restore_gbps_" + label, m.restore, "raw_hdf5_read_gbps_" + label,
            m.raw_read);
  }
  if (!scratch.empty()) rmdir(scratch.c_str());
}

}  // namespace prism::bench
