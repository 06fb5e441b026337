#!/usr/bin/env python3
"""Checks a prism-bench (or prism-init-bench) JSON file: it parses, and holds every expected
record, well formed.

usage: check_bench_json.py FILE               (prism-bench)
       check_bench_json.py --init RANKS FILE  (prism-init-bench run with RANKS ranks)
"""
import json
import math
import re
import sys

SIZES = ["1MiB", "16MiB", "64MiB", "256MiB"]
EXPECTED = (
    ["mpi_pingpong_latency_8B"]
    + ["mpi_bandwidth_" + s for s in SIZES]
    + [
        "task_sync_roundtrip",
        "single_client_tasks_sync",
        "single_client_tasks_async",
        "task_async_throughput_100k",
        "multi_client_tasks_async",
        "single_client_wait_1k_refs",
        "many_tasks_1m_queued",
        "many_tasks_1m_queued_seconds",
        "1_1_actor_calls_sync",
        "1_1_actor_calls_async",
        "1_1_actor_calls_concurrent",
        "1_n_actor_calls_async",
        "n_n_actor_calls_async",
        "actor_creations",
        "many_actors_10k",
        "single_client_put_calls",
        "single_client_get_calls",
        "single_client_put_gigabytes",
        "single_client_get_object_containing_10k_refs",
    ]
    + ["transfer_bandwidth_" + s for s in SIZES]
    + ["metg_stencil_us", "metg_tree_us"]
    + ["placement_group_create_removal", "pg_create_remove_per_s", "scheduling_decisions_per_s"]
)
# Object bandwidth by size (bandwidth_benchmarks.h); 1 GiB is left out by --quick. The 64 MiB
# Put is single_client_put_gigabytes, the 1 and 64 MiB pulls are transfer_bandwidth_*.
OBJECT_SIZES = ["1KiB", "64KiB", "1MiB", "64MiB"]
PUT = ["put_gbps_" + s for s in OBJECT_SIZES if s != "64MiB"]
GET_LOCAL = ["get_local_gbps_" + s for s in OBJECT_SIZES] + ["get_local_us_" + s for s in OBJECT_SIZES[1:]]
GET_REMOTE = ["get_remote_gbps_" + s for s in ("1KiB", "64KiB")]
LARGE_ARG = ["large_arg_by_value_ms", "large_arg_put_once_ms", "large_arg_put_once_speedup"]
EXPECTED += (
    PUT
    + GET_LOCAL
    + ["get_local_us_1KiB"]
    + ["mpi_bandwidth_" + s for s in ("1KiB", "64KiB")]
    + GET_REMOTE
    + LARGE_ARG
)
WITH_BASELINE = (
    ["task_sync_roundtrip", "1_1_actor_calls_sync", "single_client_put_gigabytes"]
    + ["scheduling_decisions_per_s"]
    + ["transfer_bandwidth_" + s for s in SIZES]
    + PUT
    + GET_LOCAL
    + GET_REMOTE
    + ["large_arg_put_once_ms"]
)
# Which baseline each object bandwidth record must carry (same size, same run).
BASELINE_OF = {n: "memcpy_gbps_" + n.rsplit("_", 1)[1] for n in PUT + GET_LOCAL if "_gbps_" in n}
BASELINE_OF.update({n: "get_local_us_1KiB" for n in GET_LOCAL if "_us_" in n})
BASELINE_OF.update({n: "mpi_bandwidth_" + n.rsplit("_", 1)[1] for n in GET_REMOTE})
BASELINE_OF["large_arg_put_once_ms"] = "large_arg_by_value_ms"
# Collectives against MPI's own collective over the same ranks, same run.
COLLECTIVES = ["allreduce_" + s for s in ("8B", "1KiB", "64KiB", "1MiB", "16MiB", "64MiB", "256MiB")]
COLLECTIVES += ["broadcast_64MiB", "allgather_64MiB"]
EXPECTED += COLLECTIVES
WITH_BASELINE += COLLECTIVES
BASELINE_OF.update({n: "mpi_" + n for n in COLLECTIVES if n.startswith("allreduce_")})
BASELINE_OF.update({"broadcast_64MiB": "mpi_bcast_64MiB", "allgather_64MiB": "mpi_allgather_64MiB"})
# Spilling to HDF5 against a plain HDF5 write/read of the same bytes (256 MiB: full runs only).
SPILL = ["spill_gbps_" + s for s in ("1MiB", "64MiB")] + ["restore_gbps_" + s for s in ("1MiB", "64MiB")]
EXPECTED += SPILL + ["raw_hdf5_write_gbps_1MiB", "raw_hdf5_read_gbps_1MiB"]
WITH_BASELINE += SPILL
BASELINE_OF.update({n: "raw_hdf5_write_gbps_" + n.rsplit("_", 1)[1] for n in SPILL if n.startswith("spill")})
BASELINE_OF.update({n: "raw_hdf5_read_gbps_" + n.rsplit("_", 1)[1] for n in SPILL if n.startswith("restore")})
# Each Task Bench sweep reports its efficiency at every grain, in % (at least one grain).
SWEEPS = [re.compile(r"^taskbench_%s_eff_[0-9.]+us$" % p) for p in ("stencil", "tree")]
INIT_EXPECTED = ["init_seconds", "shutdown_seconds"]


def load(path, errors):
    with open(path) as f:
        records = json.load(f)
    if not isinstance(records, list):
        errors.append("top level is not an array")
        return {}
    by_name = {}
    for r in records:
        if not isinstance(r, dict) or not {"name", "value", "unit"} <= r.keys():
            errors.append("malformed record: %r" % (r,))
            continue
        if r["name"] in by_name:
            errors.append("duplicate record " + r["name"])
        by_name[r["name"]] = r
        value = r["value"]
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            errors.append("%s: value %r is not a positive number" % (r["name"], value))
    return by_name


def check_bench(by_name, errors):
    for name in EXPECTED:
        if name not in by_name:
            errors.append("missing record " + name)
    for name in WITH_BASELINE:
        r = by_name.get(name)
        if r is not None and not ("baseline_name" in r and isinstance(r.get("baseline_value"), (int, float))):
            errors.append(name + ": no baseline")
    for name, baseline in BASELINE_OF.items():
        r = by_name.get(name)
        if r is not None and r.get("baseline_name", baseline) != baseline:
            errors.append("%s: baseline %r, expected %s" % (name, r.get("baseline_name"), baseline))
    for sweep in SWEEPS:
        points = [r for name, r in by_name.items() if sweep.match(name)]
        if not points:
            errors.append("no record matches " + sweep.pattern)
        for r in points:
            if r["unit"] != "%" or r["value"] > 200:
                errors.append("%s: %r %s is not an efficiency in %%" % (r["name"], r["value"], r["unit"]))


def check_init(by_name, ranks, errors):
    for name in INIT_EXPECTED:
        r = by_name.get(name)
        if r is None:
            errors.append("missing record " + name)
        elif r.get("ranks") != ranks or r["unit"] != "s":
            errors.append("%s: expected %d ranks and unit s, got %r" % (name, ranks, r))


def main(argv):
    errors = []
    if len(argv) == 2:
        check_bench(load(argv[1], errors), errors)
    elif len(argv) == 4 and argv[1] == "--init":
        check_init(load(argv[3], errors), int(argv[2]), errors)
    else:
        sys.exit(__doc__)
    return errors


if __name__ == "__main__":
    problems = main(sys.argv)
    for p in problems:
        print("check_bench_json: " + p, file=sys.stderr)
    print("check_bench_json: %s" % ("FAILED" if problems else "ok"))
    sys.exit(1 if problems else 0)
