#pragma once
/// Bootstrap: the out-of-band channel a job uses once, to learn who it is and to exchange the
/// addresses that everything after it needs.
///
/// Implementations: MpiBootstrap (mpirun, srun --mpi=pmix, or a singleton run). Nothing in Prism
/// above the transport assumes MPI; another launcher plugs in by implementing this interface.
///
/// Thread contract: called from one thread at a time (Init, Shutdown).

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "prism/common/ids.h"
#include "prism/common/result.h"

namespace prism::transport {

/// The byte strings of every rank, indexed by rank.
using GatheredBytes = std::vector<std::vector<std::byte>>;

class Bootstrap {
 public:
  virtual ~Bootstrap() = default;

  virtual Rank rank() const = 0;
  virtual int size() const = 0;
  /// Rank among the processes on this host, and their number.
  virtual int local_rank() const = 0;
  virtual int local_size() const = 0;
  /// The host name of every rank (gathered at construction).
  virtual const std::vector<std::string>& hostnames() const = 0;
  /// Which launcher started the job ("mpirun", "srun", "singleton").
  virtual std::string launcher() const = 0;

  /// Every rank contributes `mine`; every rank receives all contributions.
  virtual Result<GatheredBytes> AllGather(std::span<const std::byte> mine) = 0;
  /// Rank `root`'s `data` reaches every rank.
  virtual Result<std::vector<std::byte>> Broadcast(std::span<const std::byte> data, Rank root) = 0;
  /// Waits for every rank; calls `progress` while waiting (UCX software RMA needs the target to
  /// progress, so a plain blocking barrier can deadlock).
  virtual Status Barrier(const std::function<void()>& progress) = 0;
  /// Leaves the bootstrap channel (MPI_Finalize when this process initialised MPI).
  virtual void Finalize() = 0;
  /// The process is about to exit without returning to the application (a scheduler rank at
  /// the end of the job): leaves the channel even when the application set it up.
  virtual void FinalizeForExit() = 0;
  /// Gives the channel up without its closing handshake, which could wait for ever on a dead
  /// peer (Open MPI's MPI_Finalize after a rank died); later Finalize calls do nothing.
  virtual void Abandon() = 0;
};

}  // namespace prism::transport
