"""The benchmarks the comparison knows: their order, their family and their older names.

Every source (Ray, prism-bench, ucx_perftest) writes records named as Ray's
`ray microbenchmark` names them; this table is the one place that says in which order
the table lists them and in which plot they appear. Names not listed here still show up
(after the listed ones, in a family guessed from their prefix), so a new prism-bench
measure needs no change here to be compared.
"""

import re

SIZES = ["1MiB", "16MiB", "64MiB", "256MiB"]

# prism-bench's object bandwidth by size (benchmarks/prism_bench/bandwidth_benchmarks.h); the
# 64 MiB Put is single_client_put_gigabytes, the 1 and 64 MiB pulls transfer_bandwidth_*.
OBJECT_SIZES = ["1KiB", "64KiB", "1MiB", "64MiB", "1GiB"]
_PULL_SIZES = [s for s in OBJECT_SIZES if s not in ("1MiB", "64MiB")]

# (name, family) in table order.
BENCHMARKS = (
    [
        ("single_client_tasks_sync", "tasks"),
        ("single_client_tasks_async", "tasks"),
        ("task_async_throughput_100k", "tasks"),
        ("multi_client_tasks_async", "tasks"),
        ("1_1_actor_calls_sync", "actors"),
        ("1_1_actor_calls_async", "actors"),
        ("1_1_actor_calls_concurrent", "actors"),
        ("1_n_actor_calls_async", "actors"),
        ("n_n_actor_calls_async", "actors"),
        ("actor_creations", "actors"),
        ("single_client_put_calls", "objects"),
        ("single_client_get_calls", "objects"),
        ("single_client_put_gigabytes", "objects"),
        ("single_client_get_object_containing_10k_refs", "objects"),
        ("single_client_wait_1k_refs", "objects"),
    ]
    + [("put_gbps_" + s, "objects") for s in OBJECT_SIZES if s != "64MiB"]
    + [("get_local_gbps_" + s, "objects") for s in OBJECT_SIZES]
    + [("get_local_us_" + s, "objects") for s in OBJECT_SIZES]
    + [
        ("large_arg_by_value_ms", "objects"),
        ("large_arg_put_once_ms", "objects"),
        ("large_arg_put_once_speedup", "objects"),
        ("mpi_pingpong_latency_8B", "transfer"),
    ]
    + [("get_remote_gbps_" + s, "transfer") for s in _PULL_SIZES]
    + [("transfer_bandwidth_" + s, "transfer") for s in SIZES]
    + [(f"ucx_tag_bw_{s}_{tls}", "transfer") for tls in ("sm", "tcp") for s in SIZES]
    + [("metg_stencil_us", "taskbench"), ("metg_tree_us", "taskbench")]
    + [
        ("many_tasks_1m_queued", "scale"),
        ("many_tasks_1m_queued_seconds", "scale"),
        ("many_actors_10k", "scale"),
        ("placement_group_create_removal", "scale"),
        ("pg_create_remove_per_s", "scale"),
        ("scheduling_decisions_per_s", "scale"),
        ("init_seconds", "scale"),
        ("shutdown_seconds", "scale"),
    ]
)

# prism-bench's Task Bench sweep: one record per (pattern, grain), efficiency in %; the
# table leaves them out (taskbench.png draws them as curves).
TASKBENCH_POINT = re.compile(r"taskbench_(?P<pattern>[a-z]+)_eff_(?P<grain_us>[0-9.e+-]+)us$")

FAMILIES = ["tasks", "actors", "objects", "transfer", "taskbench", "scale"]

# Ray's name -> prism-bench's name for the same measure before it adopted Ray's names
# (build-lead/ still writes these; newer builds may write both).
PRISM_ALIASES = {
    "single_client_tasks_sync": "task_sync_roundtrip",
    "single_client_tasks_async": "task_async_throughput",
    "single_client_put_calls": "put_small_rate",
    "single_client_get_calls": "get_small_rate",
    "single_client_put_gigabytes": "put_gigabytes",
}

# Prefix -> family, for names the table above does not list (checked in order).
_PREFIX_FAMILIES = [
    ("mpi_", "transfer"),
    ("ucx_", "transfer"),
    ("memcpy", "transfer"),
    ("get_remote_", "transfer"),
    ("transfer_", "transfer"),
    ("metg_", "taskbench"),
    ("taskbench_", "taskbench"),
    ("many_", "scale"),
    ("init", "scale"),
    ("shutdown", "scale"),
]


def family_of(name):
    """The plot a benchmark belongs to."""
    for listed, family in BENCHMARKS:
        if listed == name:
            return family
    for prefix, family in _PREFIX_FAMILIES:
        if name.startswith(prefix):
            return family
    if "actor" in name:
        return "actors"
    if "task" in name:
        return "tasks"
    return "objects"


def ordered(names):
    """`names` sorted as the table lists them: the catalog's order, then the rest by family."""
    listed = [n for n, _ in BENCHMARKS]

    def key(name):
        if name in listed:
            return (0, listed.index(name), "")
        return (1, FAMILIES.index(family_of(name)), name)

    return sorted(set(names), key=key)
