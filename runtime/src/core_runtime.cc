#include "core_runtime.h"

#include <fmt/format.h>
#include <sched.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

#include "accelerator_type.h"
#include "prism/common/clock.h"
#include "prism/common/logging.h"
#include "prism/common/wire.h"
#include "prism/runtime/errors.h"
#include "prism/transport/mpi_bootstrap.h"
#include "resource_config.h"
#include "services.h"
#include "signals.h"

namespace prism::runtime {
namespace {

spdlog::logger& Log() {
  static spdlog::logger& logger = log::Get("runtime");
  return logger;
}

// The live runtime. A shared_ptr so that API calls racing with Shutdown keep it alive.
std::atomic<std::shared_ptr<CoreRuntime>> g_runtime;
// The bootstrap outlives a runtime: a singleton may Init again after Shutdown, and MPI can be
// initialised only once per process.
std::unique_ptr<transport::Bootstrap> g_bootstrap;
std::once_flag g_atexit_once;
// Shutdown signals, watched for the whole process (dispositions are process-wide); installed by
// the first Init, never destroyed on its own thread (the signal path ends the process).
std::unique_ptr<SignalWatcher> g_signals;
// Set while the driver shuts down for a signal: the application's threads, which may see the
// runtime go away (an exception from Get, a return from main), wait for the process to end.
std::atomic<bool> g_signal_shutdown{false};
// A scheduler rank that is already leaving (Serve tearing down) when a shutdown signal comes
// finishes its exit, with 128 + this signal as its code.
std::atomic<bool> g_leaving{false};
std::atomic<int> g_late_signal{0};

[[noreturn]] void WaitForSignalExit() {
  while (true) pause();
}

// Ends the process if a shutdown step hangs (a dead peer in MPI_Finalize, a task that never
// returns): exit code `code` after `timeout_ms`, unless Disarm()ed.
class ShutdownWatchdog {
 public:
  ShutdownWatchdog(int64_t timeout_ms, int code, std::string what) {
    thread_ = std::jthread([this, timeout_ms, code, what = std::move(what)](std::stop_token stop) {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, stop, std::chrono::milliseconds(timeout_ms), [] { return false; }))
        return;
      if (stop.stop_requested()) return;
      Log().critical("{} did not finish within {} ms; exiting with code {}", what, timeout_ms,
                     code);
      log::Flush();
      _exit(code);
    });
  }
  ~ShutdownWatchdog() {
    thread_.request_stop();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::jthread thread_;
};

// --prism-<name>=<value> arguments.
std::map<std::string, std::string> ParseArguments(int argc, char** argv) {
  std::map<std::string, std::string> out;
  for (int i = 1; argv != nullptr && i < argc; ++i) {
    std::string arg = argv[i] != nullptr ? argv[i] : "";
    if (arg.rfind("--prism-", 0) != 0) continue;
    size_t eq = arg.find('=');
    if (eq == std::string::npos) {
      throw PrismError(
          fmt::format("prism::Init: argument '{}' needs a value: --prism-<setting>=<value>", arg));
    }
    out[arg.substr(8, eq - 8)] = arg.substr(eq + 1);
  }
  return out;
}

double AutoCpus(int local_size) {
  cpu_set_t set;
  CPU_ZERO(&set);
  int allowed = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
  int online = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  // Bound to a subset (srun, numactl): the binding is this rank's share. Unbound (mpirun
  // --bind-to none): the ranks on this host share its cores.
  if (allowed < online) return std::max(1, allowed);
  return std::max(1, allowed / std::max(1, local_size));
}

std::vector<std::byte> EncodeResources(const ResourceSet& set) {
  std::vector<std::byte> out;
  WireWriter w(out);
  WriteResources(w, set);
  return out;
}

Result<ResourceSet> DecodeResources(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ResourceSet set = ReadResources(r);
  if (!r.AtEnd()) return MakeError(ErrorCode::kMalformed, "malformed resource record");
  return set;
}

[[noreturn]] void Fail(const std::string& message) { throw PrismError("prism::Init: " + message); }

}  // namespace

std::shared_ptr<CoreRuntime> CoreRuntime::Current() {
  return g_runtime.load(std::memory_order_acquire);
}

std::shared_ptr<CoreRuntime> CoreRuntime::Require(const char* api) {
  auto rt = Current();
  if (!rt)
    throw PrismError(fmt::format("{} called before prism::Init (or after prism::Shutdown)", api));
  return rt;
}

void CoreRuntime::Initialize(const Config& config, int argc, char** argv) {
  if (Current())
    throw PrismError("prism::Init: Prism is already initialised (call prism::Shutdown first)");
  if (!g_bootstrap) {
    auto boot =
        transport::MpiBootstrap::Create(argc > 0 ? &argc : nullptr, argc > 0 ? &argv : nullptr);
    if (!boot) Fail(boot.error().ToString());
    g_bootstrap = std::move(*boot);
  } else if (transport::MpiBootstrap::MpiFinalized()) {
    Fail("a Prism job under a launcher can be initialised only once per process");
  }
  std::call_once(g_atexit_once, [] {
    std::atexit([] {
      if (g_signal_shutdown.load()) WaitForSignalExit();
      // The driver forgot prism::Shutdown: end the job so that no rank waits for ever.
      if (Current()) Finalize();
      if (g_bootstrap) g_bootstrap->Finalize();
    });
  });
  std::shared_ptr<CoreRuntime> rt(new CoreRuntime());
  if (g_bootstrap->rank() != 0) {
    try {
      rt->Build(config, argc, argv, *g_bootstrap);
      // Published before it starts: a task may call the API as soon as workers run.
      g_runtime.store(rt);
      rt->Start();
    } catch (const std::exception& e) {
      log::Get("runtime").critical("rank {}: {}", g_bootstrap->rank(), e.what());
      log::Flush();
      std::exit(1);
    }
    rt->Serve();  // never returns
  }
  rt->Build(config, argc, argv, *g_bootstrap);
  g_runtime.store(rt);
  try {
    rt->Start();
  } catch (...) {
    g_runtime.store(nullptr);
    throw;
  }
}

void CoreRuntime::Build(const Config& config, int argc, char** argv,
                        transport::Bootstrap& bootstrap) {
  bootstrap_ = &bootstrap;
  rank_ = bootstrap.rank();
  size_ = bootstrap.size();
  hostname_ = bootstrap.hostnames()[rank_];

  std::map<std::string, std::string> overrides = config.system_config;
  for (auto& [name, value] : ParseArguments(argc, argv)) overrides[name] = value;
  std::vector<std::string> warnings;
  auto loaded = SystemConfig::Load(overrides, &warnings);
  if (!loaded) Fail(loaded.error().message);
  config_ = *loaded;
  auto file_level = log::ParseLevel(config_.log_level);
  auto console_level = log::ParseLevel(config_.log_console_level);
  if (!file_level || !console_level) Fail("bad log level");

  // The job's identity comes from rank 0.
  JobInfo mine = rank_ == 0 ? MakeJobInfo(config_, config.job_namespace) : JobInfo{};
  auto shared = bootstrap.Broadcast(mine.Encode(), 0);
  if (!shared) Fail(shared.error().ToString());
  auto job = JobInfo::Decode(*shared);
  if (!job) Fail(job.error().ToString());
  job_ = *job;

  std::string log_dir = job_.session_dir + "/logs";
  if (Status s = CreateSessionDirectories(job_); !s) Fail(s.error().message);
  log::LogOptions log_options;
  log_options.rank = rank_;
  log_options.file = fmt::format("{}/rank-{}.log", log_dir, rank_);
  log_options.file_level = *file_level;
  log_options.console_level = *console_level;
  if (Status s = log::Configure(log_options); !s) Fail(s.error().message);
  for (const auto& w : warnings) Log().warn("{}", w);
  Log().info("rank {} of {} on {} (launcher {}), job {}, namespace {}", rank_, size_, hostname_,
             bootstrap.launcher(), job_.job_id.Hex(), job_.job_namespace);
  Log().debug("configuration:\n{}", config_.Describe());

  // Where this rank runs (collective); threads started from here on inherit its binding.
  std::vector<std::string> binding_warnings;
  binding_ = BindRank(bootstrap, config_, &binding_warnings);
  for (const auto& w : binding_warnings) Log().warn("{}", w);
  Log().info("placement: {}; topology loaded in {:.1f} ms", binding_.Describe(),
             binding_.topology_load_ms);
  if (binding_.pin) {
    if (Status s = PinCurrentThread(binding_.cpus.pus()); !s) Log().warn("{}", s.error().message);
  }
  gpus_ = std::make_unique<GpuSlots>(binding_.gpu_ids);

  // The node's memory limit, read once for the memory resource, the store's default size and
  // the memory monitor.
  std::optional<objstore::NodeMemoryLimit> node_limit;
  if (config_.object_store_memory == 0 || config_.memory_limit == 0) {
    auto detected = objstore::DetectNodeMemoryLimit(objstore::MemorySources::System());
    if (!detected) Fail(detected.error().message);
    node_limit = std::move(*detected);
  }

  // Capacities of every rank, exchanged once: defaults, then the `resources` setting
  // (resource_config.h).
  ResourceInputs resource_inputs;
  resource_inputs.rank = rank_;
  resource_inputs.hostname = hostname_;
  resource_inputs.detected_cpus =
      binding_.cpus.empty() ? AutoCpus(bootstrap.local_size()) : binding_.cpus.size();
  resource_inputs.gpu_ids = binding_.gpu_ids;
  resource_inputs.node_memory_limit_bytes = node_limit ? node_limit->bytes : 0;
  resource_inputs.ranks_on_node = bootstrap.local_size();
  resource_inputs.accelerator_type = config_.accelerator_type.empty()
                                         ? DetectAcceleratorType(AcceleratorSources::System())
                                         : config_.accelerator_type;
  resource_inputs.resources = config_.resources;
  resource_inputs.num_cpus = config_.num_cpus;
  resource_inputs.head_cpus = config_.head_cpus;
  resource_inputs.num_gpus = config_.num_gpus;
  resource_inputs.memory_limit = config_.memory_limit;
  auto computed = ComputeRankResources(resource_inputs);
  if (!computed) Fail(computed.error().message);
  ResourceSet capacity = std::move(*computed);
  // GPUs declared by `resources` get slots as num_gpus would (made-up ids past the placed ones).
  if (auto ids = GpuIdsForCapacity(binding_.gpu_ids, capacity.Units("GPU"));
      ids != binding_.gpu_ids) {
    gpus_ = std::make_unique<GpuSlots>(std::move(ids));
  }
  Log().info("resources: {}", capacity.ToString());
  auto all = bootstrap.AllGather(EncodeResources(capacity));
  if (!all) Fail(all.error().ToString());
  std::vector<ResourceSet> capacities;
  for (const auto& bytes : *all) {
    auto set = DecodeResources(bytes);
    if (!set) Fail(set.error().ToString());
    capacities.push_back(*set);
  }

  transport::TransportOptions transport_options;
  transport_options.peer_failure_detection = config_.peer_failure_detection;
  transport_options.progress_spin_us = config_.progress_spin_us;
  transport_options.startup_timeout_ms = config_.startup_timeout_ms;
  auto transport = transport::Transport::Create(bootstrap, transport_options);
  if (!transport) Fail(transport.error().ToString());
  transport_ = std::move(*transport);

  pool_ = objstore::BufferPool::Create({});
  objstore::ObjectStoreOptions store_options;
  if (config_.object_store_memory < 0) {
    Fail(fmt::format("object_store_memory={} is negative (bytes; 0: the default)",
                     config_.object_store_memory));
  }
  if (!(config_.spill_fs_capacity_threshold > 0)) {
    Fail(fmt::format("spill_fs_capacity_threshold={} is not above 0 (a fraction; 1: no check)",
                     config_.spill_fs_capacity_threshold));
  }
  if (config_.object_store_memory > 0) {
    store_options.capacity_bytes = static_cast<size_t>(config_.object_store_memory);
  } else {
    store_options.capacity_bytes =
        objstore::DefaultStoreCapacity(node_limit->bytes, bootstrap.local_size());
    Log().info("object store: {} bytes, 30% of this rank's share of {} bytes ({}) over {} ranks",
               store_options.capacity_bytes, node_limit->bytes, node_limit->source,
               bootstrap.local_size());
  }
  if (config_.object_spilling) {
    // Each rank spills into a folder of its own, which its store removes at the end.
    std::string dirs = config_.spill_dir.empty() ? job_.session_dir + "/spill" : config_.spill_dir;
    for (size_t start = 0; start <= dirs.size();) {
      size_t end = std::min(dirs.find(':', start), dirs.size());
      std::string dir = dirs.substr(start, end - start);
      if (!dir.empty()) {
        store_options.spill_directories.push_back(
            config_.spill_dir.empty()
                ? fmt::format("{}/rank-{}", dir, rank_)
                : fmt::format("{}/prism-{}-rank-{}", dir, job_.job_id.Hex(), rank_));
      }
      start = end + 1;
    }
  }
  spill_dirs_ = store_options.spill_directories;
  store_options.spill_fs_capacity_threshold = config_.spill_fs_capacity_threshold;
  store_ = std::make_unique<objstore::ObjectStore>(store_options);
  objstore::ObjectTransferOptions transfer_options;
  transfer_options.rma_threshold_bytes = static_cast<size_t>(config_.rma_threshold_bytes);
  transfer_options.mode = config_.transfer_mode;
  transfer_ =
      std::make_unique<objstore::ObjectTransfer>(*transport_, *store_, pool_, transfer_options);
  ObjectManager::Options object_options;
  object_options.max_inline_bytes = config_.max_inline_bytes;
  object_options.get_spin_ns = config_.get_spin_us * 1000;
  objects_ =
      std::make_unique<ObjectManager>(*transport_, *store_, *transfer_, pool_, object_options);
  // The memory monitor watches this rank's share of its node's memory.
  if (!(config_.memory_usage_threshold > 0 && config_.memory_usage_threshold <= 1)) {
    Fail(fmt::format("memory_usage_threshold={} is not in (0, 1]", config_.memory_usage_threshold));
  }
  if (config_.memory_limit < 0 || config_.memory_monitor_refresh_ms < 0) {
    Fail(fmt::format("memory_limit={} and memory_monitor_refresh_ms={} must not be negative",
                     config_.memory_limit, config_.memory_monitor_refresh_ms));
  }
  MemoryMonitor::Options monitor_options;
  monitor_options.limit_bytes = static_cast<uint64_t>(config_.memory_limit);
  if (monitor_options.limit_bytes == 0) {
    monitor_options.limit_bytes = node_limit->bytes / std::max(1, bootstrap.local_size());
  }
  monitor_options.threshold = config_.memory_usage_threshold;
  monitor_options.refresh_ms = config_.memory_monitor_refresh_ms;
  monitor_options.usage = &ResidentBytes;
  memory_ = std::make_unique<MemoryReporter>(*transport_, *store_, *objects_,
                                             monitor_options.limit_bytes);
  if (config_.scheduler_infeasible != "fail" && config_.scheduler_infeasible != "wait") {
    Fail(fmt::format("scheduler_infeasible='{}' must be 'fail' or 'wait'",
                     config_.scheduler_infeasible));
  }
  if (!(config_.scheduler_spread_threshold >= 0 && config_.scheduler_spread_threshold <= 1) ||
      !(config_.scheduler_top_k_fraction >= 0 && config_.scheduler_top_k_fraction <= 1) ||
      config_.scheduler_top_k_absolute < 1 || config_.resource_report_interval_ms < 1 ||
      config_.max_spillbacks < 0) {
    Fail(fmt::format(
        "scheduler_spread_threshold={} and scheduler_top_k_fraction={} must be in [0, 1], "
        "scheduler_top_k_absolute={} and resource_report_interval_ms={} at least 1, "
        "max_spillbacks={} not negative",
        config_.scheduler_spread_threshold, config_.scheduler_top_k_fraction,
        config_.scheduler_top_k_absolute, config_.resource_report_interval_ms,
        config_.max_spillbacks));
  }
  ClusterView::Options view_options;
  view_options.spread_threshold = config_.scheduler_spread_threshold;
  view_options.top_k_fraction = config_.scheduler_top_k_fraction;
  view_options.top_k_absolute = config_.scheduler_top_k_absolute;
  view_options.seed = job_.job_id.value;
  view_ = std::make_unique<ClusterView>(rank_, capacities, bootstrap.hostnames(), view_options);
  WorkerPool::Options worker_options;
  worker_options.capacity = capacity;
  worker_options.max_threads = config_.max_worker_threads;
  worker_options.spin_ns = config_.worker_spin_us * 1000;
  int first_threads = static_cast<int>((capacity.Units("CPU") + kResourceUnit - 1) / kResourceUnit);
  worker_options.thread_cpus = binding_.WorkerCpus(first_threads);
  if (binding_.pin) worker_options.spare_cpus = binding_.cpus.pus();
  workers_ = std::make_unique<WorkerPool>(*transport_, worker_options);
  executor_ =
      std::make_unique<TaskExecutor>(*transport_, *store_, *transfer_, *objects_, pool_, *workers_,
                                     TaskExecutor::Options{config_.max_inline_bytes});
  monitor_ =
      std::make_unique<MemoryMonitor>(monitor_options, [this] { executor_->ReleaseParked(); });
  executor_->SetMemoryMonitor(monitor_.get());
  executor_->SetGpuSlots(gpus_.get());
  TaskManager::Options task_options;
  task_options.max_inline_bytes = config_.max_inline_bytes;
  task_options.infeasible_wait = config_.scheduler_infeasible == "wait";
  task_options.job_hex = job_.job_id.Hex();
  tasks_ = std::make_unique<TaskManager>(*transport_, *objects_, *view_, *executor_, pool_,
                                         task_options);
  // Resource reports and spillback (resource_reporter.h).
  // A task is sent back only after waiting a report interval: one that waits for the CPU of a task
  // that has just replied starts here within microseconds.
  executor_->SetClusterView(view_.get(), static_cast<uint32_t>(config_.max_spillbacks),
                            config_.resource_report_interval_ms * 1'000'000);
  reporter_ = std::make_unique<ResourceReporter>(*transport_, *workers_, *view_,
                                                 config_.resource_report_interval_ms,
                                                 [this] { executor_->SpillWaiting(); });
  view_->SetLocalSource([this] { return reporter_->Current(); });
  actor_executor_ = std::make_unique<ActorExecutor>(
      *transport_, pool_, *workers_,
      [this](const TaskId& id, const std::string& function, BufferPtr result) {
        executor_->Reply(id, function, std::move(result));
      },
      [this](const std::string& scope, const std::string& name, const ActorId& actor) {
        actors_->ReleaseName(scope, name, actor);
      });
  executor_->SetActorExecutor(actor_executor_.get());
  actor_executor_->SetGpuSlots(gpus_.get());
  ActorManager::Options actor_options;
  actor_options.job_namespace = job_.job_namespace;
  actor_options.request_timeout_ms = config_.startup_timeout_ms;
  actors_ = std::make_unique<ActorManager>(*transport_, *tasks_, *objects_, *view_,
                                           *actor_executor_, actor_options);

  transfer_->RegisterHandlers();
  objects_->RegisterHandlers();
  memory_->RegisterHandlers();
  executor_->RegisterHandlers();
  tasks_->RegisterHandlers();
  actor_executor_->RegisterHandlers();
  actors_->RegisterHandlers();
  reporter_->RegisterHandlers();
  // Placement groups (placement_group_*.h, bundle_host.h)
  BuildPlacementGroups();
  // end placement groups
  RegisterShutdownHandlers();
  kv_ = std::make_unique<KvStore>(*transport_, rank_);
  kv_->RegisterHandlers();
  InstallServiceForwarders(*transport_);  // collective message types and failure notices
  transport_->AddPeerFailureHandler(
      [this](Rank r, const std::string& why) { OnPeerFailure(r, why); });
  ready_.assign(size_, false);

  capacity_ = capacity;
  capacities_ = std::move(capacities);
}

void CoreRuntime::Start() {
  if (Status s = transport_->Start(*bootstrap_); !s) Fail(s.error().ToString());
  workers_->Start();
  monitor_->Start();
  reporter_->Start();
  if (rank_ == 0) {
    memory_files_ = std::make_unique<MemoryFileService>(*memory_, job_.session_dir);
    memory_files_->Start();  // answers `prism memory`
    std::ofstream info(job_.session_dir + "/job_info");
    info << "job_id " << job_.job_id.Hex() << "\nnamespace " << job_.job_namespace << "\nranks "
         << size_ << "\nlauncher " << bootstrap_->launcher() << "\n";
    for (Rank r = 0; r < size_; ++r) {
      info << "rank " << r << " host " << bootstrap_->hostnames()[r] << " cpus "
           << capacities_[r].Amount("CPU") << "\n";
    }
    WriteStatus("running");
  }
  Log().info("ready: {} CPU, {} worker threads", capacity_.Amount("CPU"), workers_->threads());
  // Start-up lines reach the file now: a rank killed later (SIGKILL) still leaves them.
  log::Flush();
  if (!g_signals) {
    auto signals = ParseSignalList(config_.shutdown_signals);
    if (!signals) Fail(signals.error().message);
    if (!signals->empty()) {
      auto watcher = SignalWatcher::Start(*signals, [](int signal) {
        if (auto rt = Current()) {
          rt->OnShutdownSignal(signal);
        } else if (g_leaving.load()) {
          g_late_signal.store(signal);
        } else {
          log::Flush();  // no job (after prism::Shutdown): the signal's usual end
          _exit(128 + signal);
        }
      });
      if (!watcher) Fail(watcher.error().message);
      g_signals = std::move(*watcher);
    }
  }
}

void CoreRuntime::OnShutdownSignal(int signal) {
  int code = 128 + signal;
  Log().warn("{} received: shutting down, exit code {}", SignalName(signal), code);
  if (rank_ != 0) {
    exit_code_.store(code);
    exit_requested_.store(true);
    state_event_.Notify();
    return;  // Serve() tears down and exits
  }
  // The driver: prism::Shutdown's work on this thread while the application's threads may still
  // run, then leave at once (no atexit handlers or static destructors under their feet). An
  // application thread that fails because the runtime went away waits for that exit.
  g_signal_shutdown.store(true);
  std::set_terminate([] { WaitForSignalExit(); });
  Finalize();
  RemoveRankFiles(job_, spill_dirs_);
  Log().info("exiting with code {} after {}", code, SignalName(signal));
  log::Flush();
  _exit(code);
}

ResourceSet CoreRuntime::ClusterCapacity() const {
  ResourceSet total;
  for (const ClusterView::RankSnapshot& r : view_->Snapshot()) {
    if (r.alive) total.Add(r.total);
  }
  return total;
}

std::string CoreRuntime::NodeId(Rank rank) const {
  return fmt::format("{}{:016x}", job_.job_id.Hex(), static_cast<uint64_t>(rank));
}

ResourceSet CoreRuntime::ClusterAvailable() const {
  ResourceSet available;
  for (const ClusterView::RankSnapshot& r : view_->Snapshot()) {
    if (r.alive) available.Add(r.available);
  }
  return available;
}

void CoreRuntime::RegisterShutdownHandlers() {
  transport_->SetHandler(kShutdownPrepare, [this](Rank source, std::span<const std::byte>) {
    if (source != 0) return;  // only the driver ends the job
    Log().info("driver asked to shut down");
    executor_->Close();
    actor_executor_->Close();
    transport_->MarkAllDeparting();
    (void)transport_->Send(0, kShutdownReady, {});
  });
  transport_->SetHandler(kShutdownReady, [this](Rank source, std::span<const std::byte>) {
    {
      std::lock_guard lock(state_mu_);
      ready_[source] = true;
    }
    transport_->MarkDeparting(source);
    state_event_.Notify();
  });
  transport_->SetHandler(kShutdownCommit, [this](Rank source, std::span<const std::byte>) {
    if (source != 0) return;
    exit_requested_.store(true);
    state_event_.Notify();
  });
}

void CoreRuntime::OnPeerFailure(Rank rank, const std::string& why) {
  tasks_->OnPeerFailure(rank, why);
  objects_->OnPeerFailure(rank, why);
  actor_executor_->OnPeerFailure(rank, why);
  actors_->OnPeerFailure(rank, why);
  {
    std::lock_guard lock(state_mu_);
    dead_.push_back(rank);
  }
  exit_code_.store(1);  // the job lost a rank: it did not succeed
  if (rank_ != 0 && rank == 0) {
    Log().error("the driver (rank 0) died: this rank leaves the job");
    exit_requested_.store(true);
  }
  state_event_.Notify();
}

void CoreRuntime::Serve() {
  Log().info("serving tasks");
  while (!exit_requested_.load()) {
    state_event_.Sleep([this] { return exit_requested_.load(); }, 100'000'000);
  }
  int code = exit_code_.load();
  {
    ShutdownWatchdog watchdog(config_.shutdown_timeout_ms, code, "shutdown of this rank");
    g_leaving.store(true);
    g_runtime.store(nullptr);
    TearDown();
    // After a rank died, Open MPI's MPI_Finalize can hang in its closing fence (seen with
    // --enable-recovery), and a launcher that lets survivors run also lets them skip it.
    if (LostRanks()) {
      bootstrap_->Abandon();
    } else {
      bootstrap_->FinalizeForExit();
    }
    // A dead driver removes nothing: its scratch on this host goes with ours.
    if (DriverDied()) {
      if (bootstrap_->hostnames()[0] == hostname_) {
        RemoveRankFiles(job_, RenameRankDirs(spill_dirs_, rank_, 0));
      }
      WriteStatus("failed: the driver (rank 0) died");
    }
  }
  if (int signal = g_late_signal.load(); signal != 0) code = 128 + signal;
  Log().info("exiting with code {}", code);
  log::Flush();
  std::exit(code);
}

bool CoreRuntime::DriverDied() {
  std::lock_guard lock(state_mu_);
  return std::find(dead_.begin(), dead_.end(), 0) != dead_.end();
}

bool CoreRuntime::LostRanks() {
  std::lock_guard lock(state_mu_);
  return !dead_.empty();
}

void CoreRuntime::Finalize() {
  std::shared_ptr<CoreRuntime> rt = g_runtime.exchange(nullptr);
  if (!rt) return;
  rt->ShutdownJob();
}

void CoreRuntime::ShutdownJob() {
  int64_t timeout = config_.shutdown_timeout_ms;
  ShutdownWatchdog watchdog(2 * timeout, 1, "prism::Shutdown");
  executor_->Close();
  actor_executor_->Close();
  for (Rank r = 1; r < size_; ++r) {
    if (transport_->IsAlive(r)) (void)transport_->Send(r, kShutdownPrepare, {});
  }
  auto all_answered = [this] {
    std::lock_guard lock(state_mu_);
    for (Rank r = 1; r < size_; ++r) {
      if (!ready_[r] && transport_->IsAlive(r)) return false;
    }
    return true;
  };
  if (!transport_->WaitUntil(all_answered, state_event_, NowNanos() + timeout * 1'000'000, 0)) {
    Log().error("not every rank answered the shutdown within {} ms; leaving anyway", timeout);
  }
  transport_->MarkAllDeparting();
  for (Rank r = 1; r < size_; ++r) {
    if (transport_->IsAlive(r)) (void)transport_->Send(r, kShutdownCommit, {});
  }
  std::vector<Rank> dead;
  {
    std::lock_guard lock(state_mu_);
    dead = dead_;
  }
  TearDown();
  if (dead.empty()) {
    WriteStatus("succeeded");
  } else {
    WriteStatus(fmt::format("failed: ranks {} died", fmt::join(dead, ",")));
    Log().error("job ends without ranks {}", fmt::join(dead, ","));
  }
  // Under a launcher MPI is finalised now (the scheduler ranks are waiting in MPI_Finalize); a
  // singleton keeps it so that it can Init again.
  if (!dead.empty()) {
    bootstrap_->Abandon();  // see Serve()
  } else if (size_ > 1) {
    bootstrap_->Finalize();
  }
  Log().info("shut down");
  log::Flush();
}

void CoreRuntime::TearDown() {
  if (torn_down_) return;
  torn_down_ = true;
  if (objects_ && store_) {
    auto o = objects_->stats();
    auto s = store_->stats();
    auto p = pool_->stats();
    Log().info(
        "at shutdown: {} object entries ({} owned, {} freed so far); store {} objects, {} B "
        "primary, {} B "
        "secondary; pool {} B in use, {} B cached; {} tasks in flight",
        o.entries, o.owned, o.freed, s.objects, s.primary_bytes, s.secondary_bytes,
        p.allocated_bytes, p.cached_bytes, tasks_ ? tasks_->in_flight() : 0);
  }
  if (memory_files_) memory_files_->Stop();
  StopPlacementGroups();
  if (reporter_) reporter_->Stop();
  if (monitor_) monitor_->Stop();
  if (workers_) workers_->Stop();
  if (actor_executor_) actor_executor_->Clear();  // actors' destructors, after their last calls
  if (pool_) pool_->DropRegistrations();
  if (transport_) transport_->Stop();
  RemoveRankFiles(job_, spill_dirs_);  // spilled objects; logs and status stay
}

void CoreRuntime::WriteStatus(const std::string& status) const {
  std::ofstream out(job_.session_dir + "/status");
  out << status << "\n";
}

CoreRuntime::~CoreRuntime() {
  TearDown();
  // Components go in reverse order of construction (members below the transport first).
  actors_.reset();
  actor_executor_.reset();
  tasks_.reset();
  reporter_.reset();
  monitor_.reset();
  memory_files_.reset();
  executor_.reset();
  workers_.reset();
  view_.reset();
  memory_.reset();
  objects_.reset();
  transfer_.reset();
  store_.reset();
  kv_.reset();
  transport_.reset();
}

}  // namespace prism::runtime
