#pragma once
/// MpiBootstrap: Bootstrap over MPI (works under mpirun, srun --mpi=pmix and as a singleton).
///
///   auto boot = MpiBootstrap::Create(&argc, &argv);
///   if (!boot) die(boot.error());
///   Rank me = (*boot)->rank();
///
/// MPI is initialised with MPI_THREAD_MULTIPLE unless the application already initialised it, in
/// which case Prism leaves MPI_Finalize to the application.

#include <memory>

#include "prism/transport/bootstrap.h"

namespace prism::transport {

class MpiBootstrap final : public Bootstrap {
 public:
  /// Initialises MPI if needed and gathers host names. argc/argv may be null.
  static Result<std::unique_ptr<MpiBootstrap>> Create(int* argc, char*** argv);
  ~MpiBootstrap() override;

  Rank rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }
  const std::vector<std::string>& hostnames() const override { return hostnames_; }
  std::string launcher() const override { return launcher_; }

  Result<GatheredBytes> AllGather(std::span<const std::byte> mine) override;
  Result<std::vector<std::byte>> Broadcast(std::span<const std::byte> data, Rank root) override;
  Status Barrier(const std::function<void()>& progress) override;
  void Finalize() override;
  void FinalizeForExit() override;
  void Abandon() override { finalized_ = true; }

  /// True once MPI was finalised in this process: it cannot be initialised again.
  static bool MpiFinalized();

 private:
  MpiBootstrap() = default;

  Rank rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
  bool owns_mpi_ = false;
  bool finalized_ = false;
  std::string launcher_;
  std::vector<std::string> hostnames_;
};

}  // namespace prism::transport
