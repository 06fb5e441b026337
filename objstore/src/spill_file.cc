#include "prism/objstore/spill_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace prism::objstore {
namespace {

// The innermost message of this thread's HDF5 error stack (then cleared).
std::string Hdf5Message() {
  std::string message;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_DOWNWARD,
      [](unsigned n, const H5E_error2_t* e, void* out) -> herr_t {
        if (n == 0 && e->desc != nullptr) *static_cast<std::string*>(out) = e->desc;
        return 0;
      },
      &message);
  H5Eclear2(H5E_DEFAULT);
  return message.empty() ? "no message from HDF5" : message;
}

Error Hdf5Error(const char* call, const std::string& path) {
  return MakeError(ErrorCode::kIoError,
                   fmt::format("{} failed on spill file {}: {}", call, path, Hdf5Message()));
}

// Closes an HDF5 identifier when it goes out of scope.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }
  /// Closes now and reports failure (a file's close flushes it).
  bool Close() {
    hid_t id = id_;
    id_ = -1;
    return id < 0 || close_(id) >= 0;
  }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// HDF5 prints its error stack to stderr by default; Prism reports errors itself.
void QuietHdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

Status WriteItems(const std::string& path, std::span<const SpillItem> items, bool& created) {
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (!fapl.ok()) return Hdf5Error("H5Pcreate", path);
  Handle file(H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl.get()), H5Fclose);
  if (!file.ok()) return Hdf5Error("H5Fcreate", path);
  created = true;
  // Owner-only before any byte of an object is in it (the default sec2 driver's handle is the
  // file descriptor).
  void* handle = nullptr;
  if (H5Fget_vfd_handle(file.get(), fapl.get(), &handle) < 0 || handle == nullptr)
    return Hdf5Error("H5Fget_vfd_handle", path);
  if (fchmod(*static_cast<int*>(handle), 0600) != 0) {
    return MakeError(ErrorCode::kIoError,
                     fmt::format("cannot chmod spill file {}: {}", path, std::strerror(errno)));
  }
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  if (!dcpl.ok()) return Hdf5Error("H5Pcreate", path);
  // Every byte is written at once: no fill values first.
  if (H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER) < 0)
    return Hdf5Error("H5Pset_fill_time", path);
  for (const SpillItem& item : items) {
    hsize_t dims[1] = {item.data.size()};
    Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose);
    if (!space.ok()) return Hdf5Error("H5Screate_simple", path);
    Handle dataset(H5Dcreate2(file.get(), item.dataset.c_str(), H5T_STD_U8LE, space.get(),
                              H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                   H5Dclose);
    if (!dataset.ok()) return Hdf5Error("H5Dcreate2", path);
    if (!item.data.empty() && H5Dwrite(dataset.get(), H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL,
                                       H5P_DEFAULT, item.data.data()) < 0) {
      return Hdf5Error("H5Dwrite", path);
    }
    if (!dataset.Close()) return Hdf5Error("H5Dclose", path);
  }
  if (!file.Close()) return Hdf5Error("H5Fclose", path);
  return Status::Ok();
}

}  // namespace

Status WriteSpillFile(const std::string& path, std::span<const SpillItem> items) {
  QuietHdf5();
  bool created = false;  // an existing file is an error, and not ours to remove
  Status s = WriteItems(path, items, created);
  if (!s && created) unlink(path.c_str());
  return s;
}

Status ReadSpilledObject(const std::string& path, const std::string& dataset,
                         std::span<std::byte> out) {
  QuietHdf5();
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.ok()) return Hdf5Error("H5Fopen", path);
  Handle set(H5Dopen2(file.get(), dataset.c_str(), H5P_DEFAULT), H5Dclose);
  if (!set.ok()) return Hdf5Error("H5Dopen2", path);
  Handle space(H5Dget_space(set.get()), H5Sclose);
  if (!space.ok()) return Hdf5Error("H5Dget_space", path);
  hssize_t points = H5Sget_simple_extent_npoints(space.get());
  if (points < 0 || static_cast<uint64_t>(points) != out.size()) {
    return MakeError(ErrorCode::kMalformed,
                     fmt::format("dataset {} of spill file {} holds {} bytes, expected {}", dataset,
                                 path, points, out.size()));
  }
  if (!out.empty() &&
      H5Dread(set.get(), H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0) {
    return Hdf5Error("H5Dread", path);
  }
  return Status::Ok();
}

Status RemoveSpillFile(const std::string& path) {
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return MakeError(ErrorCode::kIoError,
                     fmt::format("cannot remove spill file {}: {}", path, std::strerror(errno)));
  }
  return Status::Ok();
}

}  // namespace prism::objstore
