#pragma once
/// Spill files: HDF5 files that hold objects pushed out of memory, one dataset per object.
///
/// A spill writes one batch (the objects evicted to make room for one Add) into one new file;
/// each object is a contiguous 1-D dataset of bytes named by its index in the batch. The file is
/// created with mode 0600 and is removed (RemoveSpillFile) once none of its objects is needed.
///
///   std::vector<SpillItem> batch{{"0", buffer->data()}};
///   if (Status s = WriteSpillFile(path, batch); !s) return s;   // no file is left on failure
///   if (Status s = ReadSpilledObject(path, "0", out); !s) ...   // exactly out.size() bytes
///
/// Thread contract: thread-safe (the HDF5 library in use is built thread-safe; it serialises
/// calls internally). Errors carry the failing HDF5 call, the file and HDF5's own message.

#include <cstddef>
#include <span>
#include <string>

#include "prism/common/result.h"

namespace prism::objstore {

/// One object of a batch to spill.
struct SpillItem {
  std::string dataset;              ///< Name of its dataset in the file.
  std::span<const std::byte> data;  ///< Its bytes.
};

/// Writes `items` into a new HDF5 file at `path` (mode 0600; an existing file is an error).
/// kIoError naming the file and the HDF5 call when a write fails; the partial file is removed.
Status WriteSpillFile(const std::string& path, std::span<const SpillItem> items);

/// Reads dataset `dataset` of the file at `path` into `out`; kIoError when the file or dataset
/// cannot be read, kMalformed when the dataset does not hold exactly out.size() bytes.
Status ReadSpilledObject(const std::string& path, const std::string& dataset,
                         std::span<std::byte> out);

/// Deletes a spill file; kIoError naming it when unlink fails (a missing file is not an error).
Status RemoveSpillFile(const std::string& path);

}  // namespace prism::objstore
