"""Records in prism-bench's JSON shape, so every source can be read the same way.

A record is a dict: name, value (the median), unit, p10, p90, repetitions, optionally
baseline_name/baseline_value and note (see benchmarks/prism_bench/record.h). Ray and
ucx_perftest records also keep their raw `samples`, which results.h5 stores.
A source file is {"source", "version", "command", "records"}; prism-bench's bare array
is wrapped into that shape by prism_run.py.
"""

import json
import statistics


def percentile(samples, fraction):
    """The `fraction` quantile of `samples`, interpolated as prism-bench's stats.cc does."""
    ordered = sorted(samples)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def make_record(name, samples, unit, note=""):
    """A record summarising `samples`: median, p10 and p90, and the samples themselves."""
    record = {
        "name": name,
        "value": statistics.median(samples),
        "unit": unit,
        "p10": percentile(samples, 0.1),
        "p90": percentile(samples, 0.9),
        "repetitions": len(samples),
        "samples": [float(f"{x:.4g}") for x in samples],  # 4 digits: small files
    }
    if note:
        record["note"] = note
    return record


def write_source(path, source, version, command, records):
    """Writes one source's records with what produced them."""
    with open(path, "w") as f:
        json.dump(
            {"source": source, "version": version, "command": command, "records": records},
            f,
            indent=1,
        )


def read_source(path):
    """Reads a file written by write_source."""
    with open(path) as f:
        return json.load(f)
