#pragma once
// ResourceReporter: tells every other rank what this rank has free, and gives back tasks that
// wait here while another rank has room (spillback).
//
// A thread wakes every `interval_ms`. When the worker pool's ledger changed since the last report
// it sends a ResourceReport (total, available, waiting work) to every live peer (kResourceReport);
// owners fold reports into their ClusterView. When work waits here for resources, it calls the
// spill hook (TaskExecutor::SpillWaiting). Reports go to every peer, so their cost grows with the
// square of the ranks: at 1,000 ranks and 10 ms that is 10^8 small messages a second at worst,
// which is why reports are sent only on change.
//
// Thread contract: Start/Stop from one thread; the handler runs in progress context.

#include <cstdint>
#include <functional>
#include <thread>

#include "cluster_view.h"
#include "prism/common/futex.h"
#include "prism/transport/transport.h"
#include "worker_pool.h"

namespace prism::runtime {

class ResourceReporter {
 public:
  using SpillFn = std::function<void()>;

  ResourceReporter(transport::Transport& transport, WorkerPool& workers, ClusterView& view,
                   int64_t interval_ms, SpillFn spill);
  ~ResourceReporter();

  void RegisterHandlers();
  void Start();
  void Stop();

  /// This rank's current report (what the thread would send now).
  ResourceReport Current();

 private:
  void Loop(const std::stop_token& stop);

  transport::Transport& transport_;
  WorkerPool& workers_;
  ClusterView& view_;
  int64_t interval_ms_;
  SpillFn spill_;
  uint64_t seq_ = 0;
  Event wake_;
  std::jthread thread_;
};

}  // namespace prism::runtime
