#include "prism/transport/mpi_bootstrap.h"

#include <unistd.h>

#include <cstdlib>
#include <limits>

#include "mpi_call.h"

namespace prism::transport {
namespace {

std::string DetectLauncher(int size) {
  if (std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr) return "mpirun";
  if (std::getenv("SLURM_STEP_ID") != nullptr && std::getenv("PMIX_RANK") != nullptr) return "srun";
  if (std::getenv("PMI_RANK") != nullptr || std::getenv("PMIX_RANK") != nullptr) return "pmi";
  return size == 1 ? "singleton" : "unknown";
}

}  // namespace

bool MpiBootstrap::MpiFinalized() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  return finalized != 0;
}

Result<std::unique_ptr<MpiBootstrap>> MpiBootstrap::Create(int* argc, char*** argv) {
  std::unique_ptr<MpiBootstrap> boot(new MpiBootstrap());
  if (MpiFinalized()) {
    return MakeError(
        ErrorCode::kFailedPrecondition,
        "MPI was already finalised in this process; a Prism job under a launcher can be "
        "initialised only once per process");
  }
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    PRISM_MPI_CALL(MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided));
    boot->owns_mpi_ = true;
  }
  // Bootstrap errors are returned, not fatal.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  PRISM_MPI_CALL(MPI_Comm_rank(MPI_COMM_WORLD, &boot->rank_));
  PRISM_MPI_CALL(MPI_Comm_size(MPI_COMM_WORLD, &boot->size_));
  MPI_Comm local;
  PRISM_MPI_CALL(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, boot->rank_,
                                     MPI_INFO_NULL, &local));
  PRISM_MPI_CALL(MPI_Comm_rank(local, &boot->local_rank_));
  PRISM_MPI_CALL(MPI_Comm_size(local, &boot->local_size_));
  MPI_Comm_free(&local);
  boot->launcher_ = DetectLauncher(boot->size_);

  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  std::string mine(host);
  auto gathered = boot->AllGather(std::as_bytes(std::span(mine.data(), mine.size())));
  if (!gathered) return gathered.error();
  for (const auto& bytes : *gathered) {
    boot->hostnames_.emplace_back(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  return boot;
}

MpiBootstrap::~MpiBootstrap() = default;

Result<GatheredBytes> MpiBootstrap::AllGather(std::span<const std::byte> mine) {
  if (mine.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return MakeError(ErrorCode::kInvalidArgument, "AllGather contribution too large");
  }
  int len = static_cast<int>(mine.size());
  std::vector<int> lens(size_);
  PRISM_MPI_CALL(MPI_Allgather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, MPI_COMM_WORLD));
  std::vector<int> displs(size_);
  long total = 0;
  for (int i = 0; i < size_; ++i) {
    displs[i] = static_cast<int>(total);
    total += lens[i];
  }
  if (total > std::numeric_limits<int>::max())
    return MakeError(ErrorCode::kInvalidArgument, "AllGather total too large");
  std::vector<std::byte> all(static_cast<size_t>(total));
  PRISM_MPI_CALL(MPI_Allgatherv(mine.data(), len, MPI_BYTE, all.data(), lens.data(), displs.data(),
                                MPI_BYTE, MPI_COMM_WORLD));
  GatheredBytes out(size_);
  for (int i = 0; i < size_; ++i)
    out[i].assign(all.begin() + displs[i], all.begin() + displs[i] + lens[i]);
  return out;
}

Result<std::vector<std::byte>> MpiBootstrap::Broadcast(std::span<const std::byte> data, Rank root) {
  uint64_t len = data.size();
  PRISM_MPI_CALL(MPI_Bcast(&len, 1, MPI_UINT64_T, root, MPI_COMM_WORLD));
  if (len > static_cast<uint64_t>(std::numeric_limits<int>::max())) {
    return MakeError(ErrorCode::kInvalidArgument, "Broadcast payload too large");
  }
  std::vector<std::byte> out(len);
  if (rank_ == root) std::copy(data.begin(), data.end(), out.begin());
  PRISM_MPI_CALL(MPI_Bcast(out.data(), static_cast<int>(len), MPI_BYTE, root, MPI_COMM_WORLD));
  return out;
}

Status MpiBootstrap::Barrier(const std::function<void()>& progress) {
  MPI_Request request;
  PRISM_MPI_CALL(MPI_Ibarrier(MPI_COMM_WORLD, &request));
  int done = 0;
  while (!done) {
    if (progress) progress();
    PRISM_MPI_CALL(MPI_Test(&request, &done, MPI_STATUS_IGNORE));
  }
  return Status::Ok();
}

void MpiBootstrap::Finalize() {
  if (finalized_) return;
  finalized_ = true;
  if (owns_mpi_ && !MpiFinalized()) MPI_Finalize();
}

void MpiBootstrap::FinalizeForExit() {
  // An application that initialised MPI itself never gets control back on this rank, so it
  // cannot finalise; a launcher would report a rank that exits without MPI_Finalize as failed.
  finalized_ = true;
  if (!MpiFinalized()) MPI_Finalize();
}

}  // namespace prism::transport
