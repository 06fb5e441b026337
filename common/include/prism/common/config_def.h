// Every Prism tunable, in one place (X-macro; include only from config.h / config.cc).
//
// PRISM_CONFIG(type, name, default, description)
// Each one is read from the environment variable PRISM_<NAME> (upper case), can be set in
// prism::Config::system_config under <name>, and from the command line as --prism-<name>=<value>
// (dashes or underscores). Precedence: default < environment < Config < command line.

// Logging and files.
PRISM_CONFIG(std::string, log_level, "info",
             "Level of the per-rank log file: trace, debug, info, warn, error, off")
PRISM_CONFIG(std::string, log_console_level, "warn", "Level of log lines copied to stderr")
PRISM_CONFIG(std::string, session_root, "",
             "Where session directories go (in a prism-$USER folder); empty: ${TMPDIR:-/tmp}")

// Resources.
PRISM_CONFIG(double, num_cpus, -1.0,
             "CPUs (worker slots) of each scheduler rank; -1: the rank's share of its node's cores")
PRISM_CONFIG(double, head_cpus, -1.0,
             "CPUs of rank 0's own scheduler; -1: as num_cpus; 0: rank 0 runs no tasks")
PRISM_CONFIG(int64_t, max_worker_threads, 1024,
             "Most worker threads a rank starts (threads blocked in Get lend their CPU)")

// Objects and transfers.
PRISM_CONFIG(int64_t, max_inline_bytes, int64_t{100} * 1024,
             "Task results up to this size travel inline to the owner")
PRISM_CONFIG(int64_t, rma_threshold_bytes, int64_t{64} * 1024,
             "Pulls larger than this use an RMA get on the same host")
PRISM_CONFIG(std::string, transfer_mode, "auto",
             "Large pulls: auto (RMA get on one host, AM rendezvous across hosts), get, am")

// Progress and waiting (microseconds of spinning before a thread sleeps).
PRISM_CONFIG(int64_t, progress_spin_us, 100,
             "How long the progress thread polls after the last event before it sleeps")
PRISM_CONFIG(int64_t, worker_spin_us, 100,
             "How long an idle worker thread polls for work before it sleeps")
PRISM_CONFIG(int64_t, get_spin_us, 200, "How long Get/Wait poll before the caller sleeps")

// Cluster behaviour.
PRISM_CONFIG(int64_t, shutdown_timeout_ms, 10000,
             "Longest orderly shutdown before a rank exits regardless")
PRISM_CONFIG(int64_t, startup_timeout_ms, 60000, "Longest time to connect to every peer at Init")
PRISM_CONFIG(bool, peer_failure_detection, true,
             "Watch every peer with a UCX error-handling endpoint (tcp) to learn of deaths")

// Placement, GPUs and signals (docs/placement.md).
PRISM_CONFIG(bool, bind_threads, true,
             "Pin each rank and its worker threads to its share of the node's cores (hwloc)")
PRISM_CONFIG(int64_t, num_gpus, -1,
             "GPUs each rank schedules; -1: the GPUs placed on it that CUDA can use")
PRISM_CONFIG(std::string, shutdown_signals, "TERM,USR1,USR2",
             "Signals that shut the job down gracefully (exit code 128+signal); empty: none")

// Object store capacity and spilling (objstore/README.md).
PRISM_CONFIG(int64_t, object_store_memory, 0,
             "Bytes of object data each rank's store keeps in memory; 0: 30% of the rank's share "
             "of its node's memory limit (cgroup, else Slurm, else MemTotal)")
PRISM_CONFIG(bool, object_spilling, true,
             "Spill primary copies to HDF5 files when a store is full; false: a full store fails")
PRISM_CONFIG(std::string, spill_dir, "",
             "Spill directories, colon-separated (objects go to them in turn); each rank spills "
             "into its own folder there; empty: <session dir>/spill on the node")
PRISM_CONFIG(double, spill_fs_capacity_threshold, 0.95,
             "A spill directory whose file system would be fuller than this takes no spill; 1: "
             "no check")

// Memory monitor (docs/architecture.md "Objects"; Ray's MEM-02..08).
PRISM_CONFIG(int64_t, memory_monitor_refresh_ms, 250,
             "How often each rank samples its memory use; 0: no memory monitor")
PRISM_CONFIG(double, memory_usage_threshold, 0.95,
             "Fraction of the rank's memory limit above which it admits no new task and stops "
             "its newest running task with OutOfMemoryError")
PRISM_CONFIG(int64_t, memory_limit, 0,
             "This rank's memory limit in bytes; 0: its share of the node's limit (cgroup, else "
             "Slurm, else MemTotal)")

// Resources of each rank (issue 5; docs/configuration.md "Resources (issue 5)").
PRISM_CONFIG(std::string, resources, "",
             "Resources of the ranks: 'name=amount[,name=amount][@ranks/hosts]' entries separated "
             "by ';' (later entries win), or a JSON object for every rank; CPU, GPU and memory "
             "replace the defaults")
PRISM_CONFIG(std::string, accelerator_type, "",
             "Accelerator type of the ranks with GPUs (the accelerator_type:<type> resource); "
             "empty: detected from the NVIDIA driver, else Slurm's GPU type")

// Scheduling (docs/architecture.md "Scheduling"; Ray's SCHED-03 knobs as scheduler_*).
PRISM_CONFIG(double, scheduler_spread_threshold, 0.5,
             "DEFAULT strategy: a rank below this utilisation counts as idle (work packs onto it)")
PRISM_CONFIG(
    double, scheduler_top_k_fraction, 0.2,
    "DEFAULT strategy: pick at random among this fraction of the ranks, least loaded first")
PRISM_CONFIG(int64_t, scheduler_top_k_absolute, 1,
             "DEFAULT strategy: pick among at least this many ranks")
PRISM_CONFIG(std::string, scheduler_infeasible, "fail",
             "Work or placement groups no rank could ever hold: fail (an error naming the missing "
             "resource) or wait (pending for ever, with a warning)")
PRISM_CONFIG(int64_t, resource_report_interval_ms, 10,
             "How often a rank tells the others what it has free, when that changed")
PRISM_CONFIG(int64_t, max_spillbacks, 4,
             "How often a task waiting on a busy rank may be sent to one with room; 0: never")
