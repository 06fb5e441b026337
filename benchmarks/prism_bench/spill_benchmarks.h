#pragma once
/// Spilling by size: what pushing an object out of a full store to HDF5 and reading it back
/// costs, against a plain HDF5 write/read of the same bytes in the same directory, same run.
/// Run on the driver after prism::Init, for 1 MiB, 64 MiB and 256 MiB (256 MiB not under
/// --quick), through an objstore::ObjectStore of its own whose capacity is one object:
/// - spill_gbps_<size>: the Add of a second object, which spills the first (one HDF5 file with
///   one dataset, created 0600), GB/s = size / time, against raw_hdf5_write_gbps_<size>:
///   H5Fcreate + H5Dcreate2 + H5Dwrite + H5Fclose of the same bytes;
/// - restore_gbps_<size>: the Find of the spilled object once the second one is gone (a read
///   into pool memory, no spill), against raw_hdf5_read_gbps_<size>: H5Fopen + H5Dread +
///   H5Fclose into memory that is already touched.
/// Files go to $TMPDIR (else /tmp), so both sides write the page cache of one file system.
///
///   RunSpillBenchmarks(options, results);   // the driver

#include <string>
#include <vector>

#include "bench_options.h"
#include "record.h"

namespace prism::bench {

/// The names of these measures, in the order they run (for --list).
std::vector<std::string> SpillMeasureNames();

/// Runs the selected measures and adds their records.
void RunSpillBenchmarks(const BenchOptions& options, ResultSet& results);

}  // namespace prism::bench
