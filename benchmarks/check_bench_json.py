#!/usr/bin/env python3
"""Checks a prism-bench JSON file: it parses, and holds every expected record, well formed.

usage: check_bench_json.py FILE
"""
import json
import math
import sys

SIZES = ["1MiB", "16MiB", "64MiB", "256MiB"]
EXPECTED = (
    ["mpi_pingpong_latency_8B"]
    + ["mpi_bandwidth_" + s for s in SIZES]
    + [
        "task_sync_roundtrip",
        "task_async_throughput",
        "task_async_throughput_100k",
        "1_1_actor_calls_sync",
        "1_1_actor_calls_async",
        "1_1_actor_calls_concurrent",
        "1_n_actor_calls_async",
        "n_n_actor_calls_async",
        "actor_creations",
        "put_small_rate",
        "get_small_rate",
        "put_gigabytes",
    ]
    + ["transfer_bandwidth_" + s for s in SIZES]
)
WITH_BASELINE = ["task_sync_roundtrip", "1_1_actor_calls_sync", "put_gigabytes"] + [
    "transfer_bandwidth_" + s for s in SIZES
]


def main(path):
    with open(path) as f:
        records = json.load(f)
    errors = []
    if not isinstance(records, list):
        return ["top level is not an array"]
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
    for name in EXPECTED:
        if name not in by_name:
            errors.append("missing record " + name)
    for name in WITH_BASELINE:
        r = by_name.get(name)
        if r is not None and not ("baseline_name" in r and isinstance(r.get("baseline_value"), (int, float))):
            errors.append(name + ": no baseline")
    return errors


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    problems = main(sys.argv[1])
    for p in problems:
        print("check_bench_json: " + p, file=sys.stderr)
    print("check_bench_json: %s" % ("FAILED" if problems else "ok"))
    sys.exit(1 if problems else 0)
